// The latest value of every tag path (GET /api/tags, SPEC §9): one fixed slot per path, no
// history.
//
// Fed by the data path: each source's runner owns a Writer and calls update() with every
// batch it has normalized, on the source's thread. Read by the API's workers (list, find),
// concurrently with the writers.
//
// Memory is bounded: at most `capacity` paths; a slot holds the record's interned TagInfo
// (shared, not copied), the value, quality and times. An update of a known tag allocates
// nothing unless its text value outgrows the slot's string. A path that arrives while the
// table is full is not stored and is counted (untracked_updates); slots come free when a
// source's tags are dropped (drop_source, called when a source is removed or replaced).
// Two sources that produce the same path share its slot: the last writer wins and the
// entry names it.
//
// Locking: the path index (an ordered map, so listings come out sorted) has one mutex,
// taken by a writer only for a path its Writer has not seen (first value, or after a
// drop), by list/find, and by drop_source. Each slot has its own mutex, held while one
// value is written or copied out. So on the steady state a writer takes one uncontended
// slot lock per value, and a listing delays writers only of new paths, for as long as it
// walks the index.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/record.h"

namespace uc::pipeline {

// One tag's latest value, as copied out of its slot.
struct TagValue {
  std::shared_ptr<const TagInfo> tag;  // path, source name, unit, ...
  ValueKind value_type = ValueKind::kNull;
  std::optional<double> value_num;
  std::optional<bool> value_bool;
  std::string value_str;
  Quality quality = Quality::kGood;
  std::int64_t status_code = 0;
  TimestampUs event_time = 0;   // source time, falling back to receive time (Record)
  TimestampUs ingest_time = 0;  // when the connector received it
  std::uint64_t updates = 0;    // values written to this slot since it was created
};

class LatestValues {
 public:
  static constexpr std::size_t kDefaultCapacity = 250'000;

  explicit LatestValues(std::size_t capacity = kDefaultCapacity);
  LatestValues(const LatestValues&) = delete;
  LatestValues& operator=(const LatestValues&) = delete;

  // A source's handle: caches which slot each of its tags has, so an update costs a pointer
  // lookup and a slot lock rather than a path lookup. Not thread-safe: one per source
  // thread. The table must outlive it.
  class Writer {
   public:
    explicit Writer(LatestValues& table) : table_(table) {}
    void update(const std::vector<Record>& records);
    // Forgets the cache (when the source's normalizer, and so its TagInfos, is replaced).
    void reset() { cache_.clear(); }

   private:
    struct Cached {
      std::shared_ptr<const TagInfo> tag;  // keeps the key's address from being reused
      std::uint32_t slot = 0;
      bool tracked = false;
      std::uint64_t epoch = 0;  // for untracked entries: the table's drop epoch when refused
    };
    Cached& resolve(const std::shared_ptr<const TagInfo>& tag);

    LatestValues& table_;
    std::unordered_map<const TagInfo*, Cached> cache_;
  };

  struct Query {
    std::string source;  // exact source name; empty: every source
    std::string prefix;  // path prefix (plain text); empty: every path
    std::string glob;    // normalize/glob.h pattern; empty: no glob
    std::size_t offset = 0;
    std::size_t limit = 100;
  };
  struct Page {
    std::size_t total = 0;  // entries matching the query
    std::vector<TagValue> tags;  // [offset, offset + limit) of them, sorted by path
  };
  Page list(const Query& query) const;
  std::optional<TagValue> find(std::string_view path) const;

  // Frees every slot last written by the source; returns how many. Call once the source
  // can no longer publish (its Writer would otherwise re-create them).
  std::size_t drop_source(std::string_view source_name);

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }
  // Values not stored because their path arrived while the table was full.
  std::uint64_t untracked_updates() const { return untracked_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    mutable std::mutex mu;
    TagValue value;  // value.tag null: free
  };
  static constexpr std::size_t kChunk = 1024;

  Slot& slot(std::uint32_t i) const { return chunks_[i / kChunk][i % kChunk]; }
  // The slot of tag's path, created when absent; nullopt when the table is full.
  std::optional<std::uint32_t> slot_for(const std::shared_ptr<const TagInfo>& tag);
  // Writes r into the slot if the slot still holds r's path; false when it holds another.
  bool write(std::uint32_t i, const Record& r);
  static TagValue copy_of(const Slot& s);

  const std::size_t capacity_;
  // Fixed at construction, chunks allocated on first use under index_mu_, never moved:
  // a slot's address is stable, and a writer may reach it without the index lock.
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  mutable std::mutex index_mu_;
  std::map<std::string, std::uint32_t, std::less<>> index_;  // path -> slot
  std::vector<std::uint32_t> free_;                          // freed slots
  std::uint32_t next_ = 0;                                   // slots ever used
  std::atomic<std::uint64_t> drop_epoch_{0};
  std::atomic<std::uint64_t> untracked_{0};
};

}  // namespace uc::pipeline
