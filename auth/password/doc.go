// Package password hashes and verifies account passwords with argon2id.
//
// Hashes are encoded PHC-style, "$argon2id$v=19$m=19456,t=2,p=1$salt$hash",
// so every hash carries its own parameters: they can be raised later, and old
// hashes still verify and report that they need a rehash.
//
// It may import the standard library and golang.org/x/crypto; commands use
// it through their PasswordHasher port.
package password
