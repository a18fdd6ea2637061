// Model-based test of the spool: long random sequences of append / read / rewind / ack /
// drop_oldest_segment / crash-and-reopen (optionally with a torn tail), each step checked
// against a plain in-memory model of what the spool must hold.
//
// A "crash" destroys the Spool without flush(): that is exactly a process crash (the page
// cache survives). A power loss is simulated on top by damaging the last segment only in
// ways the fsync policy allows: cutting it anywhere after the last record the spool
// reported durable (durable_seq()), or leaving half a frame at its end (a write cut short).
//
// Debugging aids: SPOOL_MODEL_TRACE=1 prints every step; SPOOL_MODEL_PARANOID=1 checks the
// whole replay after every step (slow, finds the first step that breaks it).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "buffer/spool.h"
#include "buffer/spool_format.h"
#include "buffer/spool_test_util.h"

namespace uc::buffer {
namespace {

using testing::TempDir;

struct Model {
  std::map<std::uint64_t, std::string> records;  // appended, not acked
  std::uint64_t next_seq = 1;
  std::uint64_t acked = 0;
  std::uint64_t read_pos = 1;  // next seq read() returns (or the first present after it)

  void ack(std::uint64_t up_to) {
    if (up_to <= acked) return;
    records.erase(records.begin(), records.upper_bound(up_to));
    acked = up_to;
    read_pos = std::max(read_pos, up_to + 1);
  }
  std::uint64_t unread() const {
    return static_cast<std::uint64_t>(std::distance(records.lower_bound(read_pos), records.end()));
  }
};

// Offsets just past each whole frame of a segment file, by seq.
std::map<std::uint64_t, std::uint64_t> frame_ends(const std::string& data) {
  std::map<std::uint64_t, std::uint64_t> ends;
  std::uint64_t pos = format::kSegHeader;
  while (pos + format::kFrameHeader <= data.size()) {
    const std::uint32_t len = format::get32(data.data() + pos);
    const std::uint64_t seq = format::get64(data.data() + pos + 8);
    if (pos + format::kFrameHeader + len > data.size()) break;
    pos += format::kFrameHeader + len;
    ends[seq] = pos;
  }
  return ends;
}

std::uint64_t disk_bytes(const std::string& dir) {
  std::uint64_t n = 0;
  for (const auto& f : testing::segment_files(dir)) n += std::filesystem::file_size(f);
  return n;
}

struct Params {
  std::uint32_t seed;
  FsyncPolicy policy;
};

class SpoolModel : public ::testing::TestWithParam<Params> {};

TEST_P(SpoolModel, RandomOperationsMatchTheModel) {
  const Params prm = GetParam();
  std::mt19937_64 rng(prm.seed);
  auto chance = [&rng](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto uniform = [&rng](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
  };

  TempDir dir;
  ManualClock clock;
  SpoolOptions o;
  o.directory = dir.sub("spool");
  o.fsync = prm.policy;
  o.fsync_interval = std::chrono::milliseconds(50);
  o.segment_bytes = 16 << 10;
  o.max_bytes = 192 << 10;
  o.max_record_bytes = 64 << 10;

  auto open = [&] {
    auto r = Spool::open(o, clock);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
  };
  std::unique_ptr<Spool> s = open();
  ASSERT_TRUE(s);
  Model m;
  std::uint64_t payload_id = 0;
  int crashes = 0, torn = 0, full = 0, drops = 0;

  auto make_payload = [&]() {
    std::size_t len;
    const double r = std::uniform_real_distribution<double>(0, 1)(rng);
    if (r < 0.1) len = 0;
    else if (r < 0.9) len = uniform(1, 300);
    else if (r < 0.98) len = uniform(1000, 8000);
    else len = uniform(16 << 10, 40 << 10);  // bigger than a segment
    std::string p(len, '\0');
    const std::string tag = std::to_string(++payload_id) + ":";
    for (std::size_t i = 0; i < len; ++i) p[i] = i < tag.size() ? tag[i] : static_cast<char>('a' + (payload_id + i) % 26);
    return p;
  };

  // Rewinds, reads everything, checks it is exactly the model's unacked records in order,
  // rewinds again.
  auto check_replay = [&](const char* when) {
    s->rewind();
    std::vector<SpoolRecord> out;
    auto it = m.records.begin();
    while (true) {
      ASSERT_TRUE(s->read(uniform(1, 64), uniform(1, 20000), out).is_ok());
      if (out.empty()) break;
      for (const auto& r : out) {
        ASSERT_NE(it, m.records.end()) << when << ": extra record " << r.seq;
        ASSERT_EQ(r.seq, it->first) << when;
        ASSERT_EQ(r.payload, it->second) << when << " seq " << r.seq;
        ++it;
      }
    }
    ASSERT_EQ(it, m.records.end()) << when << ": record " << it->first << " was not replayed";
    s->rewind();
    m.read_pos = m.acked + 1;
  };

  constexpr int kSteps = 3000;
  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const double op = std::uniform_real_distribution<double>(0, 1)(rng);
    if (std::getenv("SPOOL_MODEL_TRACE") != nullptr) {
      std::fprintf(stderr, "step %d op %.3f next %llu acked %llu read_pos %llu\n", step, op,
                   static_cast<unsigned long long>(m.next_seq), static_cast<unsigned long long>(m.acked),
                   static_cast<unsigned long long>(m.read_pos));
    }
    if (op < 0.35) {  // append
      std::vector<std::string> own;
      const std::size_t n = chance(0.2) ? uniform(1, 40) : uniform(1, 4);
      for (std::size_t i = 0; i < n; ++i) own.push_back(make_payload());
      std::vector<std::string_view> v(own.begin(), own.end());
      const std::uint64_t bytes_before = s->bytes();
      auto r = s->append(v);
      if (r.is_ok()) {
        ASSERT_EQ(*r, m.next_seq);
        for (auto& p : own) m.records.emplace(m.next_seq++, std::move(p));
        if (prm.policy == FsyncPolicy::kBatch) {
          ASSERT_EQ(s->durable_seq(), m.next_seq - 1);
        }
      } else {
        ASSERT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().to_string();
        ASSERT_EQ(s->bytes(), bytes_before);
        ASSERT_EQ(disk_bytes(o.directory), bytes_before);
        ++full;
        if (chance(0.5)) {
          const std::uint64_t before = m.acked;
          const std::uint64_t n_dropped = s->drop_oldest_segment();
          ++drops;
          const std::uint64_t a = s->acked_seq();
          ASSERT_GE(a, before);
          const auto erased = static_cast<std::uint64_t>(
              std::distance(m.records.begin(), m.records.upper_bound(a)));
          ASSERT_EQ(n_dropped, erased);
          m.ack(a);
        }
      }
    } else if (op < 0.6) {  // read
      const std::size_t max_records = uniform(1, 50);
      const std::size_t max_bytes = uniform(1, 30000);
      std::vector<SpoolRecord> out;
      ASSERT_TRUE(s->read(max_records, max_bytes, out).is_ok());
      auto it = m.records.lower_bound(m.read_pos);
      std::size_t bytes = 0;
      std::size_t k = 0;
      for (; it != m.records.end() && k < max_records; ++it, ++k) {
        if (k > 0 && bytes + it->second.size() > max_bytes) break;
        bytes += it->second.size();
        ASSERT_LT(k, out.size()) << "read returned too few";
        ASSERT_EQ(out[k].seq, it->first);
        ASSERT_EQ(out[k].payload, it->second);
      }
      ASSERT_EQ(out.size(), k) << "read returned too many";
      if (!out.empty()) m.read_pos = out.back().seq + 1;
    } else if (op < 0.67) {  // rewind
      s->rewind();
      m.read_pos = m.acked + 1;
    } else if (op < 0.9) {  // ack
      if (m.next_seq - 1 <= m.acked) continue;
      std::uint64_t up_to;
      if (chance(0.75) && m.read_pos - 1 > m.acked) up_to = uniform(m.acked + 1, m.read_pos - 1);
      else up_to = uniform(m.acked, m.next_seq - 1);
      if (chance(0.02)) {
        ASSERT_EQ(s->ack(m.next_seq).code(), StatusCode::kOutOfRange);
      }
      ASSERT_TRUE(s->ack(up_to).is_ok());
      m.ack(up_to);
    } else if (op < 0.93) {  // time passes
      clock.advance_us(static_cast<std::int64_t>(uniform(1, 80)) * 1000);
      s->sync_if_due();
    } else if (op < 0.935) {  // drop oldest while not full
      const std::uint64_t n_dropped = s->drop_oldest_segment();
      ++drops;
      const std::uint64_t a = s->acked_seq();
      const auto erased =
          static_cast<std::uint64_t>(std::distance(m.records.begin(), m.records.upper_bound(a)));
      ASSERT_EQ(n_dropped, erased);
      m.ack(a);
    } else {  // crash and reopen
      ++crashes;
      const std::uint64_t durable = s->durable_seq();
      s.reset();  // no flush(): a crash
      const auto segs = testing::segment_files(o.directory);
      bool damaged = false;
      std::uint64_t garbage = 0;
      if (!segs.empty() && chance(0.5)) {
        damaged = true;
        ++torn;
        const std::string last = segs.back();
        const std::string data = testing::read_file(last);
        if (chance(0.5)) {
          // A write cut short: half a frame (a real header, part of its payload) at the end.
          std::string frame(format::kFrameHeader + 100, 'q');
          format::encode_frame_header(frame.data(), m.next_seq, std::string_view(frame).substr(16));
          garbage = uniform(1, frame.size() - 1);
          testing::write_file(last, data + frame.substr(0, garbage));
        } else {
          // Power loss: anything after the last durable record may be gone.
          const auto ends = frame_ends(data);
          std::uint64_t floor = 0;
          for (const auto& [seq, end] : ends) {
            if (seq <= durable) floor = end;
          }
          if (floor == 0 && !ends.empty() && ends.begin()->first <= durable) floor = format::kSegHeader;
          testing::truncate_file(last, uniform(floor, data.size()));
        }
      }
      s = open();
      ASSERT_TRUE(s);
      const RecoveryReport& rep = s->recovery();
      std::string notes;
      for (const auto& n : rep.notes) notes += "\n  " + n;
      SCOPED_TRACE("recovery notes:" + notes);
      ASSERT_EQ(rep.corrupt_records_skipped, 0u);
      if (!damaged) {
        ASSERT_TRUE(rep.notes.empty());
        ASSERT_EQ(rep.next_seq, m.next_seq);
        ASSERT_EQ(rep.torn_bytes_cut, 0u);
      } else if (garbage > 0) {
        ASSERT_EQ(rep.torn_bytes_cut, garbage);
        ASSERT_EQ(rep.next_seq, m.next_seq);
      } else {
        // Records after the cut are gone: they must all be later than durable.
        std::vector<SpoolRecord> out, all;
        do {
          ASSERT_TRUE(s->read(1000, 1 << 30, out).is_ok());
          all.insert(all.end(), out.begin(), out.end());
        } while (!out.empty());
        s->rewind();
        const std::uint64_t kept_through = all.empty() ? m.acked : all.back().seq;
        for (auto it = m.records.upper_bound(kept_through); it != m.records.end();) {
          ASSERT_GT(it->first, durable) << "a durable record was lost";
          it = m.records.erase(it);
        }
        ASSERT_GT(rep.next_seq, kept_through);
        ASSERT_GE(rep.next_seq, std::max(m.acked, durable) + 1);
        m.next_seq = rep.next_seq;
      }
      ASSERT_EQ(rep.records, m.records.size());
      ASSERT_EQ(rep.first_unacked_seq, m.records.empty() ? m.next_seq : m.records.begin()->first);
      ASSERT_EQ(s->acked_seq(), m.acked);
      m.read_pos = m.acked + 1;
      check_replay("after reopen");
    }
    ASSERT_EQ(s->next_seq(), m.next_seq);
    ASSERT_EQ(s->acked_seq(), m.acked);
    ASSERT_EQ(s->unacked(), m.records.size());
    ASSERT_EQ(s->unread(), m.unread());
    ASSERT_LE(s->bytes(), o.max_bytes);
    if (std::getenv("SPOOL_MODEL_PARANOID") != nullptr) {
      const std::uint64_t keep = m.read_pos;
      check_replay("paranoid");
      if (HasFatalFailure()) return;
      // restore the read position
      std::vector<SpoolRecord> out;
      while (true) {
        auto it = m.records.lower_bound(m.read_pos);
        if (it == m.records.end() || it->first >= keep) break;
        ASSERT_TRUE(s->read(1, 1, out).is_ok());
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0].seq, it->first);
        m.read_pos = it->first + 1;
      }
      m.read_pos = keep;
    }
    if (step % 16 == 0) {
      ASSERT_EQ(s->bytes(), disk_bytes(o.directory));
    }
  }
  check_replay("at the end");
  EXPECT_GT(crashes, 20);
  EXPECT_GT(torn, 5);
  EXPECT_GT(full, 0);
  EXPECT_GT(drops, 0);
  RecordProperty("crashes", crashes);
}

std::string name(const ::testing::TestParamInfo<Params>& i) {
  return std::string(fsync_policy_name(i.param.policy)) + "_seed" + std::to_string(i.param.seed);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SpoolModel,
                         ::testing::Values(Params{1, FsyncPolicy::kBatch}, Params{2, FsyncPolicy::kBatch},
                                           Params{3, FsyncPolicy::kInterval}, Params{4, FsyncPolicy::kInterval},
                                           Params{5, FsyncPolicy::kNever}, Params{6, FsyncPolicy::kNever},
                                           Params{7, FsyncPolicy::kInterval}, Params{8, FsyncPolicy::kNever}),
                         name);

}  // namespace
}  // namespace uc::buffer
