package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// Limits of the statistics queries.
const (
	// maxTopLimit caps GET /api/stats/videos/top?limit=.
	maxTopLimit     = 1000
	defaultTopLimit = 10
	// defaultRangeDays is the range when from and to are both absent.
	defaultRangeDays = 90
	maxFormatBytes   = 64
)

// maxSpan is the longest range each interval may cover: 5 years of days
// (1,827 points at most), 20 years of weeks, 100 years of months.
var maxSpan = map[content.Interval]struct {
	years int
	hint  string
}{
	content.Day:   {5, "use interval=week or month, or a shorter range"},
	content.Week:  {20, "use interval=month, or a shorter range"},
	content.Month: {100, "use a shorter range"},
}

// requireAnalyst lets a request through with the auditor or the admin
// token: 403 when neither is configured (statistics are switched off) or
// when the bearer is a user's session (not an analyst), 401 when the token
// is missing or unknown. Hashing both sides keeps the compare
// constant-time in content and length.
func (s *Server) requireAnalyst(next http.HandlerFunc) http.Handler {
	var tokens [][32]byte
	for _, t := range []string{s.cfg.AdminToken, s.cfg.AuditorToken} {
		if t != "" {
			tokens = append(tokens, sha256.Sum256([]byte(t)))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(tokens) == 0 {
			s.writeError(w, r, &apperr.Error{Code: apperr.StatsDisabled,
				Message: "statistics are switched off on this server: neither AUDITOR_TOKEN nor ADMIN_TOKEN is set"})
			return
		}
		token := bearer(r)
		got := sha256.Sum256([]byte(token))
		ok := 0
		for _, want := range tokens {
			ok |= subtle.ConstantTimeCompare(got[:], want[:])
		}
		if ok == 1 {
			next(w, r)
			return
		}
		if token != "" && s.cfg.Accounts != nil {
			if _, err := s.cfg.Accounts.Authenticate(r.Context(), token); err == nil {
				s.writeError(w, r, &apperr.Error{Code: apperr.NotAnAnalyst,
					Message: "statistics need the auditor or admin token, not a user's session"})
				return
			} else if !errors.Is(err, commands.ErrUnauthenticated) {
				s.writeError(w, r, err)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="multimedia-analyst"`)
		s.writeError(w, r, &apperr.Error{Code: apperr.Unauthenticated,
			Message: "send the auditor or admin token: Authorization: Bearer <AUDITOR_TOKEN>"})
	})
}

func paramError(param string, code apperr.Code, message string) *apperr.Error {
	return badRequest(code, fmt.Sprintf("parameter %q: %s", param, message), map[string]any{"parameter": param})
}

// parseDay reads a day as 2026-03-01 or an RFC 3339 time (its UTC day).
func parseDay(param, raw string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		t, err = time.Parse(time.RFC3339, raw)
	}
	if err != nil {
		return time.Time{}, paramError(param, apperr.InvalidDate, fmt.Sprintf("%q is not a date like 2026-03-01 or a time like 2026-03-01T12:00:00Z", raw))
	}
	t = t.UTC()
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, paramError(param, apperr.InvalidDate, fmt.Sprintf("%q is outside the years 1970 to 9999", raw))
	}
	return content.Day.Floor(t), nil
}

// dayRange reads ?from= and ?to= (inclusive days, UTC). Without them the
// range is the 90 days up to today; with one, the other is 89 days away.
func (s *Server) dayRange(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	rawFrom, rawTo := q.Get("from"), q.Get("to")
	switch {
	case rawFrom == "" && rawTo == "":
		to = content.Day.Floor(s.now())
		from = to.AddDate(0, 0, -(defaultRangeDays - 1))
	case rawFrom == "":
		if to, err = parseDay("to", rawTo); err != nil {
			return
		}
		from = to.AddDate(0, 0, -(defaultRangeDays - 1))
	case rawTo == "":
		if from, err = parseDay("from", rawFrom); err != nil {
			return
		}
		to = from.AddDate(0, 0, defaultRangeDays-1)
	default:
		if from, err = parseDay("from", rawFrom); err != nil {
			return
		}
		if to, err = parseDay("to", rawTo); err != nil {
			return
		}
	}
	if to.Before(from) {
		err = badRequest(apperr.InvertedRange, fmt.Sprintf("parameter \"from\" (%s) is after \"to\" (%s)",
			from.Format(time.DateOnly), to.Format(time.DateOnly)), map[string]any{"parameter": "from"})
	}
	return
}

// videoFilter reads ?video_id= and ?format= and checks that they name a
// video that was published and a format that exists (for that video).
func (s *Server) videoFilter(r *http.Request) (videoID, format string, err error) {
	q := r.URL.Query()
	videoID, format = q.Get("video_id"), q.Get("format")
	if videoID != "" {
		id, perr := uuid.Parse(videoID)
		if perr != nil {
			return "", "", paramError("video_id", apperr.InvalidVideoID, fmt.Sprintf("%q is not a UUID", videoID))
		}
		videoID = id.String()
		known, kerr := s.cfg.ContentReads.VideoKnown(r.Context(), videoID)
		if kerr != nil {
			return "", "", kerr
		}
		if !known {
			return "", "", paramError("video_id", apperr.UnknownVideo, "no video "+videoID+" was ever published")
		}
	}
	if format != "" {
		if len(format) > maxFormatBytes {
			return "", "", paramError("format", apperr.UnknownFormat, "over 64 bytes")
		}
		known, kerr := s.cfg.ContentReads.FormatKnown(r.Context(), format, videoID)
		if kerr != nil {
			return "", "", kerr
		}
		if !known {
			where := "any video"
			if videoID != "" {
				where = "video " + videoID
			}
			return "", "", paramError("format", apperr.UnknownFormat, fmt.Sprintf("%q is not a format of %s", format, where))
		}
	}
	return videoID, format, nil
}

// seriesReply is GET /api/stats/downloads in JSON; days are YYYY-MM-DD.
type seriesReply struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Interval string        `json:"interval"`
	VideoID  string        `json:"video_id,omitempty"`
	Format   string        `json:"format,omitempty"`
	Total    int64         `json:"total"`
	Series   []seriesPoint `json:"series"`
}

type seriesPoint struct {
	Start     string `json:"start"`
	Downloads int64  `json:"downloads"`
	Accounts  int64  `json:"accounts"`
}

func (s *Server) handleDownloadStats(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.dayRange(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	interval := content.Day
	if raw := r.URL.Query().Get("interval"); raw != "" {
		if interval, err = content.ParseInterval(raw); err != nil {
			s.writeError(w, r, paramError("interval", apperr.InvalidInterval, fmt.Sprintf("%q is not one of day, week, month", raw)))
			return
		}
	}
	if span := maxSpan[interval]; to.After(from.AddDate(span.years, 0, 0)) {
		s.writeError(w, r, badRequest(apperr.RangeTooLong, fmt.Sprintf("parameter \"interval\": interval=%s covers at most %d years, and %s to %s is longer; %s",
			interval, span.years, from.Format(time.DateOnly), to.Format(time.DateOnly), span.hint),
			map[string]any{"parameter": "interval", "max_years": span.years}))
		return
	}
	// Wait first, for both read models: the filter is checked against videos.
	err = s.consistentWith(r, content.DownloadStatsName, content.VideosName)
	var videoID, format string
	if err == nil {
		videoID, format, err = s.videoFilter(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	series, err := s.cfg.ContentReads.DownloadSeries(r.Context(), content.SeriesQuery{From: from, To: to, Interval: interval, VideoID: videoID, Format: format})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reply := seriesReply{From: series.From.Format(time.DateOnly), To: series.To.Format(time.DateOnly), Interval: string(interval),
		VideoID: videoID, Format: format, Total: series.Total, Series: make([]seriesPoint, len(series.Points))}
	for i, p := range series.Points {
		reply.Series[i] = seriesPoint{Start: p.Start.Format(time.DateOnly), Downloads: p.Downloads, Accounts: p.Accounts}
	}
	if wantsCSV(r) {
		writeSeriesCSV(w, reply)
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// wantsCSV reports whether Accept names text/csv (with any parameters).
func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

func writeSeriesCSV(w http.ResponseWriter, reply seriesReply) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="downloads_%s_%s_%s.csv"`, reply.From, reply.To, reply.Interval))
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"start", "downloads", "accounts"})
	for _, p := range reply.Series {
		_ = cw.Write([]string{p.Start, strconv.FormatInt(p.Downloads, 10), strconv.FormatInt(p.Accounts, 10)})
	}
	cw.Flush()
}

type topReply struct {
	From   string             `json:"from"`
	To     string             `json:"to"`
	Videos []content.TopVideo `json:"videos"`
}

func (s *Server) handleTopVideos(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.dayRange(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := defaultTopLimit
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, perr := strconv.Atoi(raw)
		if perr != nil || n < 1 || n > maxTopLimit {
			s.writeError(w, r, badRequest(apperr.InvalidLimit, fmt.Sprintf("parameter \"limit\" must be a whole number from 1 to %d, got %q", maxTopLimit, raw),
				map[string]any{"parameter": "limit", "min": 1, "max": maxTopLimit}))
			return
		}
		limit = n
	}
	if err := s.consistentWith(r, content.DownloadStatsName, content.VideosName); err != nil {
		s.writeError(w, r, err)
		return
	}
	top, err := s.cfg.ContentReads.TopVideos(r.Context(), from, to, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, topReply{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Videos: top})
}

type formatsReply struct {
	From    string                `json:"from"`
	To      string                `json:"to"`
	VideoID string                `json:"video_id,omitempty"`
	Total   int64                 `json:"total"`
	Formats []content.FormatShare `json:"formats"`
}

func (s *Server) handleFormatSplit(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.dayRange(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("format") != "" {
		s.writeError(w, r, paramError("format", apperr.UnexpectedParameter, "this endpoint splits by format; filter by video_id only"))
		return
	}
	// Wait first, for both read models: the filter is checked against videos.
	err = s.consistentWith(r, content.DownloadStatsName, content.VideosName)
	var videoID string
	if err == nil {
		videoID, _, err = s.videoFilter(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	split, err := s.cfg.ContentReads.FormatSplit(r.Context(), from, to, videoID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reply := formatsReply{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), VideoID: videoID, Formats: split}
	for _, f := range split {
		reply.Total += f.Downloads
	}
	writeJSON(w, http.StatusOK, reply)
}
