package redisstore

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultConnectTimeout bounds Connect's first PING.
const DefaultConnectTimeout = 3 * time.Second

// Embedded is an in-process Redis server (miniredis), so that a run with a
// shared breaker needs nothing installed. Its key TTLs follow the clock
// (ClockTTL), so a lock expires on time like on a real Redis; inside a
// testing/synctest bubble that clock is the bubble's.
type Embedded struct {
	m *miniredis.Miniredis
}

// NewEmbedded returns an embedded server that listens on no socket yet:
// call Listen for loopback clients, or use PipeClient.
func NewEmbedded() *Embedded {
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	return &Embedded{m: m}
}

// Listen starts serving on 127.0.0.1 on a free port and returns the
// redis:// URL to Connect to.
func (e *Embedded) Listen() (string, error) {
	if err := e.m.StartAddr("127.0.0.1:0"); err != nil {
		return "", fmt.Errorf("redisstore: start embedded redis: %w", err)
	}
	return "redis://" + e.m.Addr(), nil
}

// PipeClient returns a client whose connections are in-memory pipes to the
// server, with no socket: usable inside a testing/synctest bubble.
func (e *Embedded) PipeClient() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                     "embedded",
		DisableIdentity:          true,
		MaintNotificationsConfig: noMaint(),
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			return e.m.Dial()
		},
	})
}

// SetError makes every command fail with msg until it is called with "":
// a store failure on demand, for tests and fault drills.
func (e *Embedded) SetError(msg string) { e.m.SetError(msg) }

// Close stops the server and drops its connections.
func (e *Embedded) Close() { e.m.Close() }

// Tune sets the client options every brownout client uses: no CLIENT
// SETINFO, and no maintenance notifications (a Redis Enterprise feature
// that resolves the server's host name and sends commands miniredis and
// older servers lack).
func Tune(o *redis.Options) {
	o.DisableIdentity = true
	o.MaintNotificationsConfig = noMaint()
}

func noMaint() *maintnotifications.Config {
	return &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

// Quiet silences go-redis's own log, which is process-wide: it prints a
// line per failed dial (several per attempt to reach a server that is
// down) onto the terminal brownout reports on. brownout reports every
// Redis failure itself: an unreachable server at start as an error, a
// failing one during a run as counted store errors and a warning.
func Quiet() { redis.SetLogger(&logging.VoidLogger{}) }

// Connect returns a client for the Redis at url (redis://host:port[/db]),
// after a PING answered within DefaultConnectTimeout, so that an
// unreachable server is a clear error at start rather than store errors
// during the run.
func Connect(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL %q is invalid: %w (want redis://host:port, such as redis://127.0.0.1:6379)", url, err)
	}
	Tune(opts)
	opts.DialTimeout = DefaultConnectTimeout
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis at %s is unreachable: %w", opts.Addr, err)
	}
	return c, nil
}
