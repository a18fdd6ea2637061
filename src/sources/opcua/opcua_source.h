// The OPC UA source: one server connection, polled with Read or subscribed to.
//
// - Runs on the source runtime (pipeline/source_loop.h), which owns the thread, stop,
//   waits and the reconnect back-off. Its body is a driver: the session machine
//   (protocols/opcua/session_machine.h) says what to do next — connect, re-activate or
//   open a session, resolve the tags (tags.h), make or take over the subscription, keep
//   Publish requests outstanding, Republish after a gap, Read when polling, disconnect —
//   the blocking client (clients/opcua/client.h) does it, and the answer goes back to the
//   machine. Every recovery rule lives in the machine and is unit-tested there.
// - Each sample keeps the value with its OPC UA type, StatusCode and timestamps
//   (values.h). One poll, and one NotificationMessage, is one batch.
// - A lost connection, timeout or malformed answer publishes bad samples (kCommError with
//   the cause) for every tag and reconnects after the runtime's back-off. Nodes that do
//   not resolve, and monitored items the server refuses, are published as bad samples
//   with the server's StatusCode.
// - A stop cancels the blocked call; the body then deletes the subscription and closes
//   the session (at most 2 s for both together) before it returns.
// - extra_counters(): re-activations, transfers, subscriptions made, notifications
//   republished and lost, secure channel token renewals.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/source.h"
#include "sources/opcua/config.h"

namespace uc::sources::opcua {

class OpcuaSource final : public pipeline::Source {
 public:
  OpcuaSource(std::string name, Options options);

  const std::string& name() const override { return name_; }
  void run(pipeline::SourceContext& ctx) override;
  std::vector<pipeline::ExtraCounter> extra_counters() const override;

  struct Counters {
    std::atomic<std::uint64_t> session_reactivations{0};
    std::atomic<std::uint64_t> subscription_transfers{0};
    std::atomic<std::uint64_t> subscriptions_created{0};
    std::atomic<std::uint64_t> notifications_republished{0};
    std::atomic<std::uint64_t> notifications_lost{0};
    std::atomic<std::uint64_t> token_renewals{0};
  };

 private:
  std::string name_;
  Options options_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

}  // namespace uc::sources::opcua
