package download_test

import (
	"errors"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/domain/download"
)

type downloader struct{ err error }

func (downloader) ID() string           { return "0b0f6c4e-6a43-4d0f-9a55-2f3c1b0c2d11" }
func (d downloader) CanDownload() error { return d.err }

var errUnverified = errors.New("not verified")

func TestRecord(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600))
	got, err := download.Record(downloader{}, "v-1", "mp4-1080p", now)
	want := download.VideoDownloaded{AccountID: downloader{}.ID(), VideoID: "v-1", Format: "mp4-1080p", At: now.UTC()}
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if _, err := download.Record(downloader{errUnverified}, "v-1", "mp4-1080p", now); !errors.Is(err, errUnverified) {
		t.Errorf("unverified: got %v, want %v", err, errUnverified)
	}
	for _, c := range [][2]string{{"", "mp4"}, {"v-1", ""}} {
		if _, err := download.Record(downloader{}, c[0], c[1], now); !errors.Is(err, download.ErrInvalidArgument) {
			t.Errorf("video %q format %q: got %v, want ErrInvalidArgument", c[0], c[1], err)
		}
	}
}

func TestStreamsPerAccountAndMonth(t *testing.T) {
	const id = "0b0f6c4e-6a43-4d0f-9a55-2f3c1b0c2d11"
	// 00:30 in CET on 1 December is still November in UTC.
	if got, want := download.StreamID(id, time.Date(2026, 12, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600))), "downloads-"+id+"-2026-11"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	got := download.StreamIDs(id, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	want := []string{"-2026-11", "-2026-12", "-2027-01", "-2027-02"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %d streams", got, len(want))
	}
	for i := range want {
		if got[i] != "downloads-"+id+want[i] {
			t.Errorf("stream %d: got %s, want %s", i, got[i], "downloads-"+id+want[i])
		}
	}
	if got := download.StreamIDs(id, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Errorf("to before from: got %v", got)
	}
}

func TestCodecKeepsTheStoredName(t *testing.T) {
	e := download.VideoDownloaded{AccountID: "a", VideoID: "v", Format: "f", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	typ, data, err := download.Encode(e)
	if err != nil || typ != "VideoDownloaded.v1" {
		t.Fatalf("encode: %s, %v", typ, err)
	}
	back, err := download.Decode(typ, data)
	if err != nil || back != e {
		t.Fatalf("decode: got %+v, %v; want %+v", back, err, e)
	}
	if _, err := download.Decode("Other.v1", data); !errors.Is(err, download.ErrUnknownEventType) {
		t.Errorf("unknown type: got %v", err)
	}
}
