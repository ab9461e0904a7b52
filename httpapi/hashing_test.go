package httpapi

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/auth/password"
)

// hashMemoryChild marks the child process of TestPasswordHashingMemoryIsBounded.
const hashMemoryChild = "MULTIMEDIA_HASH_MEMORY_CHILD"

// TestPasswordHashingMemoryIsBounded is issue 10's memory attack: 150
// parallel logins for unknown addresses (RATE_LIMIT off) took a server
// from 24 MB to over 1 GB (19 MiB per argon2id, no bound). It runs the
// logins in a fresh process (this test binary, running
// TestPasswordHashingMemoryChild) and reads that process's own peak RSS
// (VmHWM), so nothing else this package's tests did counts. Under the race
// detector (make test) RSS also holds the detector's shadow memory (113 MB
// for one login): there the bound applies to the peak of the memory the Go
// runtime itself holds (runtime/metrics, sampled every millisecond), and
// VmHWM is logged.
func TestPasswordHashingMemoryIsBounded(t *testing.T) {
	if os.Getenv(hashMemoryChild) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPasswordHashingMemoryChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), hashMemoryChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`VmHWM_kB=(\d+) go_peak_bytes=(\d+) statuses=(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the child did not report its peak:\n%s", out)
	}
	kB, _ := strconv.Atoi(string(m[1]))
	goPeak, _ := strconv.Atoi(string(m[2]))
	t.Logf("150 parallel logins: peak RSS %d MB, peak Go runtime memory %d MB (limit 300 MB, race detector %v); answers %s",
		kB*1024/1e6, goPeak/1e6, raceEnabled, m[3])
	peak, what := kB*1024, "peak RSS (VmHWM)"
	if raceEnabled {
		peak, what = goPeak, "peak memory held by the Go runtime"
	}
	if peak > 300e6 {
		t.Errorf("%s %d MB is over 300 MB", what, peak/1e6)
	}
}

// TestPasswordHashingMemoryChild is the child process's part: it only runs
// under TestPasswordHashingMemoryIsBounded.
func TestPasswordHashingMemoryChild(t *testing.T) {
	if os.Getenv(hashMemoryChild) == "" {
		t.Skip("runs as the child of TestPasswordHashingMemoryIsBounded")
	}
	// RATE_LIMIT off, and the production gate: 2 x GOMAXPROCS slots, 2 s
	// of queueing.
	s := newTestServer(t, func(c *Config) { c.PasswordGate = password.NewGate(0, 0) })
	n := 150
	if v, err := strconv.Atoi(os.Getenv(hashMemoryChild + "_N")); err == nil {
		n = v // for measuring the baseline by hand
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		start    = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Plain requests: the OpenAPI check of doRequest would count in
			// this process's memory.
			rec := rawRequest(s, http.MethodPost, "/api/sessions", fmt.Appendf(nil, `{"email":"nobody-%d-%d@example.org","password":"Wrong-Password-123"}`, time.Now().UnixNano(), i))
			if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After: %s", rec.Body)
			}
			mu.Lock()
			statuses[rec.Code]++
			mu.Unlock()
		}()
	}
	sampled := make(chan uint64)
	stop := make(chan struct{})
	go func() { sampled <- sampleGoPeak(stop) }()
	close(start)
	wg.Wait()
	close(stop)
	goPeak := <-sampled
	for code := range statuses {
		if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable {
			t.Errorf("answers %v: want only 401 and 503 busy", statuses)
		}
	}
	fmt.Printf("VmHWM_kB=%d go_peak_bytes=%d statuses=%s\n", peakRSSkB(t), goPeak, strings.ReplaceAll(fmt.Sprint(statuses), " ", ","))
}

// sampleGoPeak samples, every millisecond until stop closes, the memory
// the Go runtime has mapped and not returned to the OS, and returns the
// highest sample.
func sampleGoPeak(stop <-chan struct{}) uint64 {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	var peak uint64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(samples)
		if held := samples[0].Value.Uint64() - samples[1].Value.Uint64(); held > peak {
			peak = held
		}
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// peakRSSkB reads this process's peak resident set size from /proc.
func peakRSSkB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kB, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kB
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// TestBusyHashingAnswersAlikeForEveryAddress: with every hashing slot
// taken, a login for a real account and one for an unknown address both
// wait the same bounded time and get the same 503 busy with Retry-After,
// before any password is hashed.
func TestBusyHashingAnswersAlikeForEveryAddress(t *testing.T) {
	gate := password.NewGate(1, 50*time.Millisecond)
	e := newTestEnv(t, func(c *Config) { c.PasswordGate = gate })
	real := uniqueEmail("busy")
	register(t, e, real)
	release, err := gate.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	before := e.passwords.calls.Load()
	var bodies []string
	for _, email := range []string{real, uniqueEmail("busy-nobody")} {
		for _, path := range []string{"/api/sessions", "/api/accounts"} {
			rec := doRequest(t, e.server, http.MethodPost, path, "", map[string]any{"email": email, "password": strongPassword})
			wantStatus(t, rec, http.StatusServiceUnavailable)
			if got := rec.Header().Get("Retry-After"); got != "1" {
				t.Errorf("%s: Retry-After %q, want 1", path, got)
			}
			if got := errorOf(t, rec).Code; got != "busy" {
				t.Errorf("%s: code %q, want busy", path, got)
			}
			bodies = append(bodies, rec.Body.String())
		}
	}
	if bodies[0] != bodies[2] || bodies[1] != bodies[3] {
		t.Errorf("real and unknown addresses answered differently:\n%s", strings.Join(bodies, ""))
	}
	if got := e.passwords.calls.Load(); got != before {
		t.Errorf("%d passwords hashed while the gate was full", got-before)
	}
}
