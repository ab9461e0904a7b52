package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// BenchmarkAccountTiming (issue 10, item 1): every public account endpoint
// is timed for an address with an account and one without, 30 tries each,
// interleaved (real, unknown, unknown, real, ...), with the default reply
// floors. It reports both medians and their difference per endpoint; the
// target is a difference within 2 ms. Each try uses its own pair of
// addresses, so every try takes the path a first probe takes. Run it
// alone:
//
//	scripts/with-test-env.sh go test -run '^$' -bench AccountTiming -benchtime 1x ./httpapi/
func BenchmarkAccountTiming(b *testing.B) {
	const tries = 30
	e := newTestEnvWith(b, nil, account.Policy{}, func(c *Config) { c.ReplyFloors = DefaultReplyFloors() })
	ctx := context.Background()
	run := fmt.Sprintf("t%d", time.Now().UnixNano())
	real := make([]string, tries)
	for i := range real {
		real[i] = fmt.Sprintf("timing-real-%s-%d@example.com", run, i)
		if _, err := e.server.cfg.Accounts.Register(ctx, commands.Register{Email: real[i], Password: strongPassword}); err != nil {
			b.Fatal(err)
		}
	}
	unknown := func(i int) string { return fmt.Sprintf("timing-none-%s-%d@example.com", run, i) }
	endpoints := []struct {
		name, path string
		body       func(addr string, i int) string
	}{
		{"register", "/api/accounts", func(a string, _ int) string {
			return `{"email":"` + a + `","password":"` + strongPassword + `"}`
		}},
		{"resend_code", "/api/accounts/verification-code", func(a string, _ int) string { return `{"email":"` + a + `"}` }},
		{"verify", "/api/accounts/verify", func(a string, _ int) string {
			return `{"email":"` + a + `","code":"000000","password":"` + strongPassword + `"}`
		}},
		{"login", "/api/sessions", func(a string, _ int) string {
			return `{"email":"` + a + `","password":"Wrong-Password-42!"}`
		}},
		{"reset_request", "/api/password-resets", func(a string, _ int) string { return `{"email":"` + a + `"}` }},
		{"reset_confirm", "/api/password-resets/confirm", func(a string, _ int) string {
			return `{"email":"` + a + `","code":"000000","new_password":"Brand-New-Pass-42!"}`
		}},
	}
	time1 := func(path, body string) (time.Duration, int) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.RemoteAddr = "192.0.2.77:1234"
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		e.server.ServeHTTP(rec, req)
		return time.Since(start), rec.Code
	}
	b.ResetTimer()
	for range b.N {
		for _, ep := range endpoints {
			var realT, unknownT []time.Duration
			for i := range tries {
				u := unknown(i)
				if ep.name == "register" {
					u = fmt.Sprintf("timing-new-%s-%d@example.com", run, i)
				}
				order := []bool{true, false}
				if i%2 == 1 {
					order = []bool{false, true}
				}
				var realStatus, unknownStatus int
				for _, isReal := range order {
					if isReal {
						d, st := time1(ep.path, ep.body(real[i], i))
						realT, realStatus = append(realT, d), st
					} else {
						d, st := time1(ep.path, ep.body(u, i))
						unknownT, unknownStatus = append(unknownT, d), st
					}
				}
				if realStatus != unknownStatus {
					b.Errorf("%s try %d: status %d for the account, %d for the unknown address", ep.name, i, realStatus, unknownStatus)
				}
			}
			mr, mu := median(realT), median(unknownT)
			diff := mr - mu
			if diff < 0 {
				diff = -diff
			}
			b.ReportMetric(ms(mr), ep.name+"_real_ms")
			b.ReportMetric(ms(mu), ep.name+"_unknown_ms")
			b.ReportMetric(ms(diff), ep.name+"_diff_ms")
			b.Logf("%-14s real median %7.2f ms, unknown median %7.2f ms, difference %5.2f ms (max real %7.2f, max unknown %7.2f)",
				ep.name, ms(mr), ms(mu), ms(diff), ms(slices.Max(realT)), ms(slices.Max(unknownT)))
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
