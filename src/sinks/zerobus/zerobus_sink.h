// The Databricks Zerobus sink: one target table, one EphemeralStream at a time.
//
// write(batch) answers the Sink contract once per batch:
//  - records that fail the schema check (invalid UTF-8 in a string column, encoding
//    over max_record_bytes) are rejected before anything is sent;
//  - the rest go as one ingest_record_batch request on the current stream (opened on
//    demand: token, channel, create_stream with the record's DescriptorProto in PROTO
//    mode) and the batch is delivered when the cumulative ack covers its offset;
//  - a data fault from the server (INVALID_ARGUMENT, OUT_OF_RANGE: one bad record
//    fails the whole request) isolates the bad records by halving the batch on fresh
//    streams; the ones that fail alone are rejected with the server's message (→ DLQ)
//    and their batch-mates are delivered;
//  - every other failure (transport, UNAVAILABLE, ack timeout, protocol violations by
//    the server, auth, missing table) closes the stream and answers retry with a
//    retryable status; the lane's backoff and circuit breaker decide when the batch is
//    sent again, on a new stream with wire offsets from 0. Delivery is at-least-once.
//  - a close_stream_signal stops new sends on that stream; the in-flight request may
//    still be acked (bounded by the signal's duration and the ack timeout); the next
//    batch opens a new stream.
// Threads: write()/stop() on the lane's worker thread; stats() and diagnose() from any
// thread. Each gRPC call has one reader thread that hands responses to the worker.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "pipeline/sink.h"
#include "sinks/zerobus/config.h"
#include "sinks/zerobus/stream_session.h"
#include "sinks/zerobus/token.h"

namespace uc::sinks::zerobus {

class Call;

struct SinkStats {
  std::string state = "idle";  // idle | open | closing | failed
  std::string stream_id;
  std::string last_error;
  std::uint64_t streams_opened = 0;
  std::uint64_t stream_resets = 0;      // streams ended by an error (reconnects follow)
  std::uint64_t protocol_errors = 0;    // malformed or impossible responses from the server
  std::uint64_t close_signals = 0;
  std::uint64_t ack_timeouts = 0;
  std::uint64_t batches_sent = 0;    // write() answered delivered (possibly with rejections)
  std::uint64_t batches_failed = 0;  // write() answered retry
  std::uint64_t requests_sent = 0;
  std::uint64_t records_acked = 0;
  std::uint64_t bytes_acked = 0;
  std::uint64_t records_rejected = 0;
  double ack_p50_s = 0, ack_p99_s = 0;  // over the last 1024 acks
};

class ZerobusSink final : public pipeline::Sink {
 public:
  ZerobusSink(Options options, std::shared_ptr<TokenProvider> tokens, const Clock& clock);
  ~ZerobusSink() override;

  const std::string& name() const override { return name_; }
  Status start() override;
  pipeline::WriteResult write(const std::vector<Record>& batch) override;
  void stop() override;

  SinkStats stats() const;
  const Options& options() const { return options_; }
  // DNS, TCP, token, and a stream opened and closed on a separate connection.
  nlohmann::json diagnose() const;

 private:
  // Sends payloads[idx...] as one request and waits for its ack. A request lost to a
  // stream the server was closing on purpose (close signal, clean end) is sent once
  // more on a new stream without counting a reset.
  Status deliver(const std::vector<std::string>& payloads, const std::vector<std::size_t>& idx);
  Status deliver_once(const std::vector<std::string>& payloads, const std::vector<std::size_t>& idx,
                      bool* server_closed);
  // Applies what arrived while nothing was in flight (a close signal, the end of the
  // call), so the next request does not go to a stream the server is retiring.
  void drain_idle();
  void deliver_isolating(const std::vector<std::string>& payloads, std::vector<std::size_t> idx,
                         std::vector<pipeline::Rejection>& rejected, Status& retry);
  Status open_stream();
  void close_stream(const Status& why);
  void note_error(const Status& s);
  void set_state(const char* s);

  Options options_;
  std::shared_ptr<TokenProvider> tokens_;
  const Clock& clock_;
  std::string name_ = "zerobus";
  std::string descriptor_;  // serialized DescriptorProto of OtRecord
  std::unique_ptr<Call> call_;
  std::unique_ptr<StreamSession> session_;
  bool close_signalled_ = false;  // on the current stream

  mutable std::mutex stats_mu_;
  SinkStats stats_;
  std::deque<double> latencies_;
};

}  // namespace uc::sinks::zerobus
