/** @file
 * `ThreadTeam`: a fixed set of threads that run one function together, many times a second.
 *
 * A layer with `threads = 2` runs each step's products split by column panels (and its gate
 * epilogue split by rows) on two threads. A step of a large layer lasts tens of microseconds to
 * milliseconds, so the team hands out work by bumping a generation counter that the workers spin
 * on, and the caller waits for a pending count to reach zero: no lock, no allocation, no system
 * call on the hot path. A worker that finds no work for a while sleeps on a condition variable,
 * so an idle layer does not burn a core.
 *
 * Work is split by index only, never by timing, so results do not depend on the thread count.
 */
#ifndef RECURRENT_DETAIL_THREAD_TEAM_HPP
#define RECURRENT_DETAIL_THREAD_TEAM_HPP

#include <recurrent/types.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define RECURRENT_DETAIL_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define RECURRENT_DETAIL_PAUSE() __asm__ __volatile__("yield")
#else
#define RECURRENT_DETAIL_PAUSE() ((void)0)
#endif

namespace recurrent {
namespace detail {

class ThreadTeam {
 public:
  /// `threads` ≥ 1 in total: the caller plus `threads − 1` workers.
  explicit ThreadTeam(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;
  ~ThreadTeam() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  /// Runs `f(index, count)` on every thread of the team (the caller is index 0) and returns when
  /// all have finished. `f` must not throw.
  template <class F>
  void run(F& f) {
    if (workers_.empty()) return f(0, 1);
    task_ = &f;
    invoke_ = [](void* fn, int index, int count) { (*static_cast<F*>(fn))(index, count); };
    pending_.store(static_cast<int>(workers_.size()));
    generation_.fetch_add(1);
    if (sleeping_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    f(0, size());
    while (pending_.load() != 0) RECURRENT_DETAIL_PAUSE();
  }

 private:
  void work(int index) {
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t now = generation_.load();
      for (int spin = 0; now == seen && spin < kSpins; ++spin) {
        RECURRENT_DETAIL_PAUSE();
        now = generation_.load();
      }
      if (now == seen) {
        sleeping_.fetch_add(1);
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleeping_.fetch_sub(1);
        now = generation_.load();
      }
      seen = now;
      if (stop_.load()) return;
      invoke_(task_, index, size());
      pending_.fetch_sub(1);
    }
  }

  static constexpr int kSpins = 1 << 16;  // ≈ tens of µs before a worker sleeps
  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  void* task_ = nullptr;
  void (*invoke_)(void*, int, int) = nullptr;
};

/// Owns an optional team; copies start without one (a team serves one layer object).
class TeamHandle {
 public:
  TeamHandle() = default;
  TeamHandle(const TeamHandle&) {}
  TeamHandle& operator=(const TeamHandle&) { return *this; }
  TeamHandle(TeamHandle&&) noexcept = default;
  TeamHandle& operator=(TeamHandle&&) noexcept = default;
  ~TeamHandle() = default;

  /// The team for `threads` threads (created on first use); nullptr for one thread.
  ThreadTeam* get(int threads) {
    if (threads <= 1) return nullptr;
    if (!team_ || team_->size() != threads) team_ = std::make_unique<ThreadTeam>(threads);
    return team_.get();
  }

 private:
  std::unique_ptr<ThreadTeam> team_;
};

/// `[begin, end)` of `n` items for thread `index` of `count` (contiguous, balanced).
inline std::pair<Index, Index> splitRange(Index n, int index, int count) {
  return {n * index / count, n * (index + 1) / count};
}

}  // namespace detail
}  // namespace recurrent

#endif  // RECURRENT_DETAIL_THREAD_TEAM_HPP
