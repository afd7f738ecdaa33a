#include "runtime/runtime.h"

#include <stdexcept>

#include "io/reactor.h"
#include "runtime/spawn.h"
#include "scheduler/scheduler.h"

namespace weft {

namespace detail {

namespace {
// Cancels its task when the spawn's stop token is triggered. Holds a
// reference, and is deleted when the task finishes (its destructor waits
// for a callback already running on another thread).
class StopLink final : public core::TaskAttachment {
 public:
  StopLink(core::TaskHeader* task, const std::stop_token& token) : cb_(token, Cancel{task}) {}

 private:
  struct Cancel {
    core::TaskHeader* task;
    void operator()() const { task->request_cancel(); }
  };
  std::stop_callback<Cancel> cb_;
};
}  // namespace

void spawn_on(sched::Scheduler* scheduler, core::TaskHeader* task, const SpawnOptions& options) {
  if (scheduler == nullptr) scheduler = &current_scheduler();
  if (scheduler->is_shutdown()) throw std::runtime_error("weft: spawn on a runtime that has shut down");
  if (options.stop != nullptr && options.stop->stop_possible()) {
    if (options.stop->stop_requested()) task->cancel_requested.store(true, std::memory_order_relaxed);
    // Before the task can run (and finish): finish_task deletes it.
    task->attach(new StopLink(task, *options.stop));
  }
  scheduler->spawn(task, options);
}

sched::Scheduler& current_scheduler() {
  sched::Scheduler* s = sched::Scheduler::current();
  if (s == nullptr)
    throw std::logic_error("weft::spawn called outside a runtime: use Runtime::spawn or a Runtime::Handle");
  return *s;
}

}  // namespace detail

Runtime::Runtime(const Config& config)
    : scheduler_(std::make_shared<sched::Scheduler>(config, io::driver_factory(config.io))) {}

Runtime::~Runtime() { scheduler_->shutdown(); }

std::size_t Runtime::workers() const { return scheduler_->num_workers(); }
std::size_t Runtime::live_tasks() const { return scheduler_->live_tasks(); }

uint64_t Runtime::preemptions() const { return scheduler_->preemptions(); }
uint32_t Runtime::spare_workers_started() const { return scheduler_->spares_started(); }
const Config& Runtime::config() const { return scheduler_->config(); }

Runtime::Handle current_handle() {
  return Runtime::Handle(detail::current_scheduler().shared_from_this());
}

}  // namespace weft
