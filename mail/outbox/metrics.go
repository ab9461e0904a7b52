package outbox

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multimedia-portal/multimedia/mail"
)

// metrics are what an operator watches: the queue's depth and the age of
// its oldest ready mail (which grows while SMTP is down), deliveries, failed
// attempts, and the mails given up or dropped.
type metrics struct {
	depth      *prometheus.GaugeVec
	oldestAge  prometheus.Gauge
	deliveries *prometheus.CounterVec
	failures   *prometheus.CounterVec
	givenUp    *prometheus.CounterVec
	dropped    *prometheus.CounterVec
}

// The reasons of multimedia_mail_given_up_total and _dropped_total.
const (
	reasonExpired       = "expired"
	reasonRejected      = "rejected"
	reasonUnsealable    = "unsealable"
	reasonEventNotStore = "event_not_stored"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multimedia_mail_outbox_depth",
			Help: "Mails in the outbox, by kind and state (ready: to deliver; unconfirmed: waiting for their event to be stored)."},
			[]string{"kind", "state"}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "multimedia_mail_outbox_oldest_age_seconds",
			Help: "Age of the oldest ready mail not yet delivered (0 when none): grows while the SMTP server is unreachable."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_mail_deliveries_total",
			Help: "Mails the SMTP server accepted, by kind."}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_mail_delivery_failures_total",
			Help: "Failed delivery attempts, by kind (transient ones are retried)."}, []string{"kind"}),
		givenUp: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_mail_given_up_total",
			Help: "Mails given up undelivered, by kind and reason (expired, rejected, unsealable)."}, []string{"kind", "reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_mail_dropped_total",
			Help: "Queued mails deleted unsent because the change they report was never stored."}, []string{"kind", "reason"}),
	}
	for _, k := range mail.Kinds {
		m.deliveries.WithLabelValues(string(k))
		m.failures.WithLabelValues(string(k))
		m.givenUp.WithLabelValues(string(k), reasonExpired)
		m.depth.WithLabelValues(string(k), "ready")
		m.depth.WithLabelValues(string(k), "unconfirmed")
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.oldestAge, m.deliveries, m.failures, m.givenUp, m.dropped)
	}
	return m
}
