package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runScript runs scripts/NAME with args and env added to a minimal
// environment, and returns stdout, stderr and whether it succeeded.
func runScript(t *testing.T, env []string, name string, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{name}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return out.String(), errb.String(), err == nil
}

var tokenLine = regexp.MustCompile(`(?m)^(ADMIN_TOKEN|AUDITOR_TOKEN)=([A-Za-z0-9_-]+)$`)

func readTokens(t *testing.T, file string) map[string]string {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range tokenLine.FindAllStringSubmatch(string(body), -1) {
		got[m[1]] = m[2]
	}
	return got
}

func TestDevTokensMadeOnceKeptPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".dev")
	file := filepath.Join(dir, "tokens.env")

	out, stderr, ok := runScript(t, nil, "dev-tokens.sh", file)
	if !ok || strings.TrimSpace(out) != file {
		t.Fatalf("first run: ok=%v stdout %q stderr %s", ok, out, stderr)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("tokens file mode %o, want 600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Errorf("tokens dir mode %o, want 700", dst.Mode().Perm())
	}
	first := readTokens(t, file)
	admin, auditor := first["ADMIN_TOKEN"], first["AUDITOR_TOKEN"]
	// The server refuses tokens shorter than 16 characters or equal ones.
	if len(admin) < 16 || len(auditor) < 16 || admin == auditor {
		t.Fatalf("tokens %q / %q: want two different tokens of 16+ characters", admin, auditor)
	}

	if _, stderr, ok := runScript(t, nil, "dev-tokens.sh", file); !ok {
		t.Fatalf("second run failed: %s", stderr)
	}
	if again := readTokens(t, file); again["ADMIN_TOKEN"] != admin || again["AUDITOR_TOKEN"] != auditor {
		t.Errorf("second run changed the tokens: %v, was %v", again, first)
	}

	// The file sources as a shell would load it.
	cmd := exec.Command("bash", "-c", `set -a; . "$1"; set +a; printf '%s %s' "$ADMIN_TOKEN" "$AUDITOR_TOKEN"`, "_", file)
	got, err := cmd.Output()
	if err != nil || string(got) != admin+" "+auditor {
		t.Errorf("sourcing the file gave %q (%v), want %q", got, err, admin+" "+auditor)
	}

	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, ok := runScript(t, nil, "dev-tokens.sh", file); ok || !strings.Contains(stderr, "readable by others") {
		t.Errorf("a world-readable tokens file is accepted (stderr %q)", stderr)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("ADMIN_TOKEN=short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, ok := runScript(t, nil, "dev-tokens.sh", file); ok || !strings.Contains(stderr, "ADMIN_TOKEN") {
		t.Errorf("a file without valid tokens is accepted (stderr %q)", stderr)
	}
}

func TestDevBannerLinks(t *testing.T) {
	env := []string{"ADMIN_TOKEN=admin-token-0123456789", "AUDITOR_TOKEN=auditor-token-0123456789"}
	out, stderr, ok := runScript(t, env, "dev-banner.sh", "http://localhost:8080", "http://localhost:8025", "/repo/.dev/tokens.env")
	if !ok {
		t.Fatalf("banner failed: %s", stderr)
	}
	for _, want := range []string{
		"http://localhost:8080/dashboard#token=auditor-token-0123456789",
		"ADMIN_TOKEN=admin-token-0123456789",
		"AUDITOR_TOKEN=auditor-token-0123456789",
		"http://localhost:8080/openapi.yaml",
		"http://localhost:8025",
		"set -a; . /repo/.dev/tokens.env; set +a",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if _, _, ok := runScript(t, env[:1], "dev-banner.sh", "http://localhost:8080", "http://localhost:8025"); ok {
		t.Error("banner without AUDITOR_TOKEN succeeded")
	}
}

// TestDevTokensIgnoredByGit keeps the tokens out of commits.
func TestDevTokensIgnoredByGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	out, err := exec.Command("git", "check-ignore", "-q", "--no-index", "../.dev/tokens.env").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a git repository") {
			t.Skip("not in a git checkout")
		}
		t.Errorf(".dev/tokens.env is not git-ignored: %v %s", err, out)
	}
}
