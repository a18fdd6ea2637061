#include "pipeline/latest_values.h"

#include <algorithm>

#include "normalize/glob.h"

namespace uc::pipeline {

LatestValues::LatestValues(std::size_t capacity)
    : capacity_(std::min<std::size_t>(capacity, UINT32_MAX)), chunks_((capacity_ + kChunk - 1) / kChunk) {}

void LatestValues::Writer::update(const std::vector<Record>& records) {
  for (const Record& r : records) {
    if (!r.tag) continue;
    // A second attempt when the cached slot was dropped or given to another path meanwhile.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const Cached& c = resolve(r.tag);
      if (!c.tracked) {
        table_.untracked_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      if (table_.write(c.slot, r)) break;
      cache_.erase(r.tag.get());
    }
  }
}

LatestValues::Writer::Cached& LatestValues::Writer::resolve(const std::shared_ptr<const TagInfo>& tag) {
  const std::uint64_t epoch = table_.drop_epoch_.load(std::memory_order_acquire);
  auto it = cache_.find(tag.get());
  // An untracked path is retried once slots may have come free.
  if (it != cache_.end() && (it->second.tracked || it->second.epoch == epoch)) return it->second;
  // Bounds the cache when a source's TagInfos are replaced without reset().
  if (it == cache_.end() && cache_.size() >= table_.capacity_ + kChunk) cache_.clear();
  const auto slot = table_.slot_for(tag);
  Cached& c = cache_[tag.get()];
  c.tag = tag;
  c.tracked = slot.has_value();
  c.slot = slot.value_or(0);
  c.epoch = epoch;
  return c;
}

std::optional<std::uint32_t> LatestValues::slot_for(const std::shared_ptr<const TagInfo>& tag) {
  std::lock_guard lock(index_mu_);
  if (auto it = index_.find(tag->tag_path); it != index_.end()) return it->second;
  std::uint32_t i = 0;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else if (next_ < capacity_) {
    i = next_++;
    if (!chunks_[i / kChunk]) chunks_[i / kChunk] = std::make_unique<Slot[]>(kChunk);
  } else {
    return std::nullopt;
  }
  {
    Slot& s = slot(i);
    std::lock_guard slot_lock(s.mu);
    s.value = TagValue{};
    s.value.tag = tag;
  }
  index_.emplace(tag->tag_path, i);
  return i;
}

bool LatestValues::write(std::uint32_t i, const Record& r) {
  Slot& s = slot(i);
  std::lock_guard lock(s.mu);
  TagValue& v = s.value;
  if (v.tag.get() != r.tag.get()) {
    if (!v.tag || v.tag->tag_path != r.tag->tag_path) return false;
    v.tag = r.tag;  // the same path from another source or a new normalizer
  }
  v.value_type = r.value_type;
  v.value_num = r.value_num;
  v.value_bool = r.value_bool;
  v.value_str = r.value_str;  // reuses the slot's capacity
  v.quality = r.quality;
  v.status_code = r.status_code;
  v.event_time = r.event_time;
  v.ingest_time = r.ingest_time;
  ++v.updates;
  return true;
}

TagValue LatestValues::copy_of(const Slot& s) {
  std::lock_guard lock(s.mu);
  return s.value;
}

LatestValues::Page LatestValues::list(const Query& query) const {
  Page page;
  std::lock_guard lock(index_mu_);
  for (auto it = index_.lower_bound(query.prefix); it != index_.end(); ++it) {
    const std::string& path = it->first;
    if (path.compare(0, query.prefix.size(), query.prefix) != 0) break;  // sorted: past the prefix
    if (!query.glob.empty() && !normalize::glob_match(query.glob, path)) continue;
    const Slot& s = slot(it->second);
    std::unique_lock slot_lock(s.mu);
    if (s.value.updates == 0) continue;  // created, first value not written yet
    if (!query.source.empty() && s.value.tag->source_name != query.source) continue;
    const std::size_t n = page.total++;
    if (n >= query.offset && n - query.offset < query.limit) page.tags.push_back(s.value);
  }
  return page;
}

std::optional<TagValue> LatestValues::find(std::string_view path) const {
  std::lock_guard lock(index_mu_);
  auto it = index_.find(path);
  if (it == index_.end()) return std::nullopt;
  TagValue v = copy_of(slot(it->second));
  if (v.updates == 0) return std::nullopt;
  return v;
}

std::size_t LatestValues::drop_source(std::string_view source_name) {
  std::lock_guard lock(index_mu_);
  std::size_t dropped = 0;
  for (auto it = index_.begin(); it != index_.end();) {
    Slot& s = slot(it->second);
    bool mine = false;
    {
      std::lock_guard slot_lock(s.mu);
      mine = s.value.tag && s.value.tag->source_name == source_name;
      if (mine) s.value = TagValue{};
    }
    if (!mine) {
      ++it;
      continue;
    }
    free_.push_back(it->second);
    it = index_.erase(it);
    ++dropped;
  }
  drop_epoch_.fetch_add(1, std::memory_order_release);
  return dropped;
}

std::size_t LatestValues::size() const {
  std::lock_guard lock(index_mu_);
  return index_.size();
}

}  // namespace uc::pipeline
