-- +goose Up
-- Read models of issue 5 (projections/content): articles, videos with their
-- download counts, and download statistics. Written by projectors only;
-- rebuilt from the event log with `multimedia projections rebuild NAME`.

-- Projection "articles". Withdrawn articles keep their row (withdrawn_at set)
-- so that a slug stays taken; queries show only the live ones.
CREATE TABLE rm_articles (
    id           uuid        PRIMARY KEY,
    slug         text        NOT NULL,
    title        text        NOT NULL,
    summary      text        NOT NULL,
    body         text        NOT NULL,
    tags         text[]      NOT NULL DEFAULT '{}',
    published_at timestamptz NOT NULL,
    updated_at   timestamptz,
    withdrawn_at timestamptz
);
CREATE UNIQUE INDEX rm_articles_slug_idx ON rm_articles (slug) WHERE withdrawn_at IS NULL;
-- newest first, keyset paging on (published_at, id)
CREATE INDEX rm_articles_feed_idx ON rm_articles (published_at DESC, id DESC) WHERE withdrawn_at IS NULL;
CREATE INDEX rm_articles_tags_idx ON rm_articles USING gin (tags) WHERE withdrawn_at IS NULL;

-- Projection "videos": the catalogue, and download counts per video and
-- format (a separate table, so a count never depends on the order in which
-- a video's row and its downloads arrive).
CREATE TABLE rm_videos (
    id               uuid        PRIMARY KEY,
    title            text        NOT NULL,
    description      text        NOT NULL,
    duration_seconds integer     NOT NULL,
    -- [{"format": "mp4-1080p", "size_bytes": 123}, ...]
    formats          jsonb       NOT NULL DEFAULT '[]',
    published_at     timestamptz NOT NULL,
    updated_at       timestamptz,
    withdrawn_at     timestamptz
);
CREATE INDEX rm_videos_catalogue_idx ON rm_videos (published_at DESC, id DESC) WHERE withdrawn_at IS NULL;

CREATE TABLE rm_video_downloads (
    video_id  uuid   NOT NULL,
    format    text   NOT NULL,
    downloads bigint NOT NULL,
    PRIMARY KEY (video_id, format)
);

-- Projection "download_stats". One row per grain (d = UTC day, w = ISO week
-- starting Monday, m = calendar month), bucket start, video and format:
-- downloads and DISTINCT accounts in that bucket. video_id
-- 00000000-0000-0000-0000-000000000000 stands for every video and format ''
-- for every format, so each query of GET /api/stats/downloads reads one row
-- per bucket, whatever its filters. The day rows with a real video and
-- format are the per-video, per-format, per-day statistics.
CREATE TABLE rm_download_counts (
    grain     text   NOT NULL,
    video_id  uuid   NOT NULL,
    format    text   NOT NULL,
    bucket    date   NOT NULL,
    downloads bigint NOT NULL,
    accounts  bigint NOT NULL,
    PRIMARY KEY (grain, video_id, format, bucket),
    CONSTRAINT rm_download_counts_grain_check CHECK (grain IN ('d', 'w', 'm'))
);
CREATE INDEX rm_download_counts_top_idx ON rm_download_counts (grain, format, bucket) WHERE format = '';

-- What keeps "accounts" distinct incrementally: per account, grain and
-- bucket, the "video_id/format" pairs the account downloaded in it. A
-- download counts the account once more for a row of rm_download_counts
-- exactly when its pair (or its video, its format, or any pair at all) is
-- new in the bucket.
CREATE TABLE rm_download_seen (
    account_id uuid   NOT NULL,
    grain      text   NOT NULL,
    bucket     date   NOT NULL,
    pairs      text[] NOT NULL,
    PRIMARY KEY (account_id, grain, bucket)
);

-- +goose Down
DROP TABLE rm_download_seen;
DROP TABLE rm_download_counts;
DROP TABLE rm_video_downloads;
DROP TABLE rm_videos;
DROP TABLE rm_articles;
