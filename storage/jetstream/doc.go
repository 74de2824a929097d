// Package jetstream is Parley's NATS JetStream backend: the storage used when
// a bot must survive restarts on one machine or run as several replicas.
// NATS is an existing distributed engine; this package only maps Parley's
// needs onto its streams and key/value buckets.
//
// # Embedded server or NATS system
//
// The same code runs against either:
//
//   - an embedded nats-server started in this process by [StartEmbedded],
//     with JetStream file storage in a data directory: a durable single
//     machine with nothing to install. It listens on 127.0.0.1 on a random
//     port, so only local clients can reach it, and it holds a lock on its
//     data directory while it runs, so that a second server on the same
//     directory is refused with a [*DataDirInUseError];
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
//
//   - [Store]: a [github.com/parleybot/parley/bot.Store] on a JetStream KV
//     bucket, passing the bottest.TestStore conformance suite. Keys are
//     encoded one-to-one into the KV key alphabet, expiry is kept with each
//     value and enforced on read, the server reclaims expired entries with
//     per-message TTLs (nats-server 2.11 or later), and SetIfAbsent is an
//     atomic compare-and-set on the bucket. See [Store] for the formats.
//
//   - [Broker]: a [github.com/parleybot/parley/bot.Broker] that keeps the
//     Bot's inbound and outbound queues in two work-queue streams, with one
//     durable consumer per conversation partition (MaxAckPending=1: in
//     order per conversation, any replica may take any partition), and the
//     deduplication records and outbound claims in a KV bucket that the
//     server reclaims by age after the Bot's dedup TTL. See
//     [Broker] for the exact protocol and what it guarantees across
//     crashes, restarts and replicas.
//
//   - [Store.GetRevision], [Store.Update] and [Store.DeleteRevision]: the
//     Store is a bot.RevisionStore, so ownership changes are
//     revision-checked across replicas.
//
//   - [FromEnv]: the Broker and Store from $NATS_URL or $PARLEY_DATA_DIR,
//     as bot options, with [NewCollector] metrics and a [ConnectedCheck].
//
// Each cron fire is claimed in the Store with a set-if-absent by the Bot
// itself, so with a shared Store it runs once across replicas.
//
// # What is proven
//
// The tests of this package run a real server in process and show: the
// Store passes bottest.TestStore; events published twice are handled once
// and in order per conversation, each with one reply; a restarted Bot
// finishes what the stopped one left; three replicas share the work, each
// cron fire runs once, and one replica's death with a message in hand is
// taken over by the others; and the crash test kills the echobot example,
// running on the embedded server, with SIGKILL at random moments while the
// Sendbee emulator delivers 2,000 messages with duplicates, and finds
// exactly one reply for every message the bot acknowledged.
package jetstream
