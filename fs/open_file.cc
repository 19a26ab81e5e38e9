#include "fs/open_file.h"

#include <vector>

#include "core/log.h"

namespace ipnfs {
namespace {

void OnInterrupt(fuse_req_t req, void* data) { static_cast<ParkedRequests*>(data)->Interrupt(req); }

}  // namespace

ParkedRequests* OpenFile::Register(fuse_req_t req, Waiting waiting, ParkedRequests& parked) {
  if (waiting == Waiting::kNever) return nullptr;
  // An interrupt that already arrived makes fuse_req_interrupted() true, which the core checks
  // before parking.
  parked.Add(req, shared_from_this());
  fuse_req_interrupt_func(req, &OnInterrupt, &parked);
  return &parked;
}

void ParkedRequests::Add(fuse_req_t req, std::shared_ptr<OpenFile> file) {
  absl::MutexLock lock(&mu_);
  requests_.emplace(req, std::move(file));
}

void ParkedRequests::Remove(fuse_req_t req) {
  std::shared_ptr<OpenFile> file;  // Released after the lock.
  absl::MutexLock lock(&mu_);
  auto it = requests_.find(req);
  if (it == requests_.end()) return;
  file = std::move(it->second);
  requests_.erase(it);
}

void ParkedRequests::Interrupt(fuse_req_t req) {
  std::shared_ptr<OpenFile> file;
  {
    absl::MutexLock lock(&mu_);
    auto it = requests_.find(req);
    if (it == requests_.end()) return;
    file = it->second;  // Keeps the file alive even if the request completes meanwhile.
  }
  IPN_LOG(DEBUG) << "request interrupted";
  file->Cancel(RequestId(req));
}

void ParkedRequests::CancelAll(int error_number) {
  std::vector<std::shared_ptr<OpenFile>> files;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [req, file] : requests_) files.push_back(file);
  }
  for (const auto& file : files) file->CancelAll(error_number);
}

}  // namespace ipnfs
