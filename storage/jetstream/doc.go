// Package jetstream is Parley's NATS JetStream backend: the storage used when
// a bot must survive restarts on one machine or run as several replicas (see
// DESIGN.md §4). NATS is an existing distributed engine; this package only
// maps Parley's needs onto its streams and key/value buckets.
//
// # Embedded server or NATS system
//
// The same code runs against either:
//
//   - an embedded nats-server started in this process by [StartEmbedded],
//     with JetStream file storage in a data directory: a durable single
//     machine with nothing to install. It listens on 127.0.0.1 on a random
//     port, so only local clients can reach it;
//   - an existing NATS server or cluster reached by URL with [Connect].
//
// [Open] chooses by environment: it connects to $NATS_URL when that is set
// (a cluster for scale-out), and otherwise starts an embedded server with
// its data in $PARLEY_DATA_DIR. Tests use the embedded server — a real
// server, in process — with a t.TempDir data directory.
//
// # What is here
//
//   - [Server], [StartEmbedded], [Connect] and [Open]: running or reaching
//     NATS. [Server.Shutdown] waits for the server to stop; the tests check
//     with goleak that no goroutine outlives it and the client connection
//     (with nats-server v2.15.2 and nats.go v1.55.0 none does, so no goleak
//     exceptions are needed).
//   - [Store]: a [github.com/parleybot/parley/bot.Store] on a JetStream KV
//     bucket, passing the bottest.TestStore conformance suite. Keys are
//     encoded one-to-one into the KV key alphabet, expiry is kept with each
//     value and enforced on read, the server reclaims expired entries with
//     per-message TTLs (nats-server 2.11 or later), and SetIfAbsent is an
//     atomic compare-and-set on the bucket. See [Store] for the formats.
//
// # Not yet
//
// The rest of §4 is future work, not stubbed here:
//
//   - the durable inbox: inbound events published to a stream with subjects
//     partitioned by conversation hash, Nats-Msg-Id set to the platform
//     event id, and a KV bucket for long-window deduplication;
//   - partition consumers: one durable consumer per partition with
//     MaxAckPending=1, redelivery after AckWait for a dead replica;
//   - the outbox as a work-queue stream;
//   - cron claims (one KV create per fire) and ownership on KV revisions.
//     A Store already offers SetIfAbsent, which is enough for claims, but
//     the Bot is not yet wired to use this package for them.
package jetstream
