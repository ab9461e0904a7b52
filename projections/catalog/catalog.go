package catalog

import (
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// Default returns every read model the service runs; add new ones here.
func Default() []projections.Projection {
	return []projections.Projection{accounts.New(),
		content.NewArticles(), content.NewVideos(), content.NewDownloadStats()}
}

// Find returns the read model called name, or nil.
func Find(name string) projections.Projection {
	for _, p := range Default() {
		if p.Name() == name {
			return p
		}
	}
	return nil
}
