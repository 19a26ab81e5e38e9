#include "fs/fuse_filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/introspection.h"
#include "core/log.h"
#include "fs/pcap_file.h"

namespace ipnfs {
namespace {

// The kernel must ask again for every path walk and stat: the daemon checks search permission in
// Lookup, and a network's mtime moves with every packet.
constexpr double kNoCaching = 0.0;
constexpr int kMaxGroups = 64;

OperationContext ContextOf(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  OperationContext context;
  context.who.uid = ctx->uid;
  context.who.gid = ctx->gid;
  context.now = absl::Now();
  gid_t groups[kMaxGroups];
  const int count = fuse_req_getgroups(req, kMaxGroups, groups);
  if (count > 0) context.who.groups.assign(groups, groups + std::min(count, kMaxGroups));
  return context;
}

struct stat ToStat(const Attributes& attr) {
  struct stat st {};
  st.st_ino = attr.ino;
  st.st_mode = attr.mode;
  st.st_nlink = attr.nlink;
  st.st_uid = attr.uid;
  st.st_gid = attr.gid;
  st.st_size = attr.size;
  st.st_blksize = 4096;
  st.st_atim = absl::ToTimespec(attr.atime);
  st.st_mtim = absl::ToTimespec(attr.mtime);
  st.st_ctim = absl::ToTimespec(attr.ctime);
  return st;
}

fuse_entry_param ToEntry(const Attributes& attr) {
  fuse_entry_param entry{};
  entry.ino = attr.ino;
  entry.attr = ToStat(attr);
  entry.attr_timeout = kNoCaching;
  entry.entry_timeout = kNoCaching;
  return entry;
}

void ReplyStatus(fuse_req_t req, const absl::Status& status) {
  fuse_reply_err(req, StatusToErrno(status));
}

void ReplyEntry(fuse_req_t req, const absl::StatusOr<Attributes>& attr) {
  if (!attr.ok()) return ReplyStatus(req, attr.status());
  const fuse_entry_param entry = ToEntry(*attr);
  fuse_reply_entry(req, &entry);
}

void ReplyAttributes(fuse_req_t req, const absl::StatusOr<Attributes>& attr) {
  if (!attr.ok()) return ReplyStatus(req, attr.status());
  const struct stat st = ToStat(*attr);
  fuse_reply_attr(req, &st, kNoCaching);
}

// Answers a getxattr/listxattr: the size when asked for it (size 0), ERANGE when too small.
void ReplySized(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, value.size());
  } else if (size < value.size()) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, value.data(), value.size());
  }
}

std::string CommandOf(pid_t pid) {
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string name;
  std::getline(comm, name);
  return std::string(absl::StripAsciiWhitespace(name));
}

PortOwner OwnerOf(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  return PortOwner{.pid = ctx->pid, .uid = ctx->uid, .command = CommandOf(ctx->pid)};
}

}  // namespace

FuseFilesystem::FuseFilesystem(Namespace& tree) : tree_(tree) {}

void FuseFilesystem::AfterFaces(absl::AnyInvocable<void()> reply) {
  if (faces_ == nullptr) return reply();
  // The creator holds the directory's lock until it has the reply, and the sockets are bound
  // through the mount by another thread: this thread must not wait for them (see SocketFaces).
  faces_->WhenExposed(std::move(reply));
}

FuseFilesystem& FuseFilesystem::From(fuse_req_t req) {
  return *static_cast<FuseFilesystem*>(fuse_req_userdata(req));
}

fuse_lowlevel_ops FuseFilesystem::Operations() {
  fuse_lowlevel_ops ops{};
  ops.init = &Init;
  ops.lookup = &Lookup;
  ops.forget = &Forget;
  ops.forget_multi = &ForgetMulti;
  ops.getattr = &GetAttr;
  ops.setattr = &SetAttr;
  ops.readlink = &ReadLink;
  ops.mknod = &MakeNode;
  ops.mkdir = &MakeDirectory;
  ops.unlink = &Unlink;
  ops.rmdir = &RemoveDirectory;
  ops.symlink = &Symlink;
  ops.rename = &Rename;
  ops.link = &Link;
  ops.open = &Open;
  ops.create = &Create;
  ops.read = &Read;
  ops.write = &Write;
  ops.poll = &Poll;
  ops.ioctl = &Ioctl;
  ops.flush = &Flush;
  ops.release = &Release;
  ops.fsync = &Fsync;
  ops.opendir = &OpenDirectory;
  ops.readdir = &ReadDirectory;
  ops.releasedir = &ReleaseDirectory;
  ops.statfs = &StatFs;
  ops.access = &Access;
  ops.setxattr = &SetXattr;
  ops.getxattr = &GetXattr;
  ops.listxattr = &ListXattr;
  ops.removexattr = &RemoveXattr;
  return ops;
}

void FuseFilesystem::CloseAll() {
  parked_.CancelAll(EINTR);
  absl::flat_hash_set<FileHandle*> open;
  {
    absl::MutexLock lock(&open_mu_);
    open.swap(open_);
  }
  for (FileHandle* file : open) delete file;
}

void FuseFilesystem::Track(FileHandle* file) {
  absl::MutexLock lock(&open_mu_);
  open_.insert(file);
}

void FuseFilesystem::Untrack(FileHandle* file) {
  absl::MutexLock lock(&open_mu_);
  open_.erase(file);
}

void FuseFilesystem::Init(void* userdata, fuse_conn_info* conn) {
  // Packets are not file data: no page cache, no writeback, no readahead.
  conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_READDIRPLUS |
                  FUSE_CAP_EXPORT_SUPPORT | FUSE_CAP_POSIX_ACL);
  conn->max_readahead = 0;
  // One write(2) must stay one request, so the MTU can be at most one request's payload.
  auto& self = *static_cast<FuseFilesystem*>(userdata);
  self.tree_.SetLimits(SettingLimits{.max_mtu = conn->max_write});
  IPN_LOG(DEBUG) << "FUSE connection: max_write " << conn->max_write;
}

void FuseFilesystem::Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyEntry(req, From(req).tree_.Lookup(parent, name, ContextOf(req)));
}

void FuseFilesystem::Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  From(req).tree_.Forget(ino, nlookup);
  fuse_reply_none(req);
}

void FuseFilesystem::ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) From(req).tree_.Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void FuseFilesystem::GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  ReplyAttributes(req, From(req).tree_.GetAttributes(ino));
}

void FuseFilesystem::SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                             fuse_file_info*) {
  AttributeChanges changes;
  if (to_set & FUSE_SET_ATTR_MODE) changes.mode = attr->st_mode;
  if (to_set & FUSE_SET_ATTR_UID) changes.uid = attr->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) changes.gid = attr->st_gid;
  if (to_set & FUSE_SET_ATTR_SIZE) changes.size = attr->st_size;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    changes.atime_now = true;
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    changes.atime = absl::TimeFromTimespec(attr->st_atim);
  }
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    changes.mtime_now = true;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    changes.mtime = absl::TimeFromTimespec(attr->st_mtim);
  }
  ReplyAttributes(req, From(req).tree_.SetAttributes(ino, changes, ContextOf(req)));
}

void FuseFilesystem::ReadLink(fuse_req_t req, fuse_ino_t ino) {
  absl::StatusOr<std::string> target = From(req).tree_.ReadLink(ino);
  if (!target.ok()) return ReplyStatus(req, target.status());
  fuse_reply_readlink(req, target->c_str());
}

void FuseFilesystem::MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                              dev_t) {
  if (S_ISSOCK(mode) && IsMirror(parent)) {
    // bind(2) in a face tree: only the daemon's own, binding a network's face, gets through.
    return ReplyEntry(req, From(req).tree_.BindFace(parent, name, fuse_req_ctx(req)->pid));
  }
  if (!S_ISREG(mode)) {
    IPN_LOG(DEBUG) << "mknod of '" << name << "' refused: only regular files are networks";
    fuse_reply_err(req, EPERM);
    return;
  }
  absl::StatusOr<Attributes> attr = From(req).tree_.MakeNetwork(parent, name, mode, ContextOf(req));
  if (!attr.ok()) return ReplyStatus(req, attr.status());
  From(req).AfterFaces([req, attr = *attr] { ReplyEntry(req, attr); });
}

void FuseFilesystem::MakeDirectory(fuse_req_t req, fuse_ino_t parent, const char* name,
                                   mode_t mode) {
  ReplyEntry(req, From(req).tree_.MakeDirectory(parent, name, mode, ContextOf(req)));
}

void FuseFilesystem::Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyStatus(req, From(req).tree_.Unlink(parent, name, ContextOf(req)));
}

void FuseFilesystem::RemoveDirectory(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyStatus(req, From(req).tree_.RemoveDirectory(parent, name, ContextOf(req)));
}

void FuseFilesystem::Symlink(fuse_req_t req, const char* target, fuse_ino_t parent,
                             const char* name) {
  ReplyEntry(req, From(req).tree_.MakeSymlink(parent, name, target, ContextOf(req)));
}

void FuseFilesystem::Rename(fuse_req_t req, fuse_ino_t parent, const char* name,
                            fuse_ino_t new_parent, const char* new_name, unsigned int flags) {
  ReplyStatus(req,
              From(req).tree_.Rename(parent, name, new_parent, new_name, flags, ContextOf(req)));
}

void FuseFilesystem::Link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) {
  fuse_reply_err(req, EPERM);  // A network has one name.
}

absl::StatusOr<FuseFilesystem::FileHandle> FuseFilesystem::OpenPort(fuse_req_t req, fuse_ino_t ino,
                                                                    const fuse_file_info& fi,
                                                                    bool check) {
  if (IsVirtual(ino)) return OpenVirtual(req, ino, fi);
  PortMode mode;
  int mask;
  switch (fi.flags & O_ACCMODE) {
    case O_RDONLY:
      mode = PortMode::kReceive;
      mask = kMayRead;
      break;
    case O_WRONLY:
      mode = PortMode::kSend;
      mask = kMayWrite;
      break;
    default:
      mode = PortMode::kSendReceive;
      mask = kMayRead | kMayWrite;
      break;
  }
  absl::StatusOr<std::shared_ptr<Network>> network =
      tree_.OpenNetwork(ino, check ? mask : 0, ContextOf(req));
  if (!network.ok()) return network.status();
  const absl::Time now = absl::Now();
  absl::StatusOr<std::unique_ptr<Port>> port = (*network)->Join(mode, OwnerOf(req), now);
  if (!port.ok()) return port.status();
  const PortOwner& owner = (*port)->owner();
  std::string details =
      absl::StrCat("port=", (*port)->id(), " pid=", owner.pid, " uid=", owner.uid,
                   " mode=", ModeName(mode), " comm=", owner.command.empty() ? "-" : owner.command);
  tree_.PublishEvent(ino, "join", details, now);
  return FileHandle{.file = std::make_shared<PortFile>(*std::move(port)),
                    .ino = ino,
                    .leave_event = std::move(details)};
}

absl::StatusOr<FuseFilesystem::FileHandle> FuseFilesystem::OpenVirtual(fuse_req_t req,
                                                                       fuse_ino_t ino,
                                                                       const fuse_file_info& fi) {
  if ((fi.flags & O_ACCMODE) != O_RDONLY) return ErrnoError(EROFS, "read-only view");
  const OperationContext context = ContextOf(req);
  if (ino == kEventsIno) {
    absl::StatusOr<std::unique_ptr<Port>> reader = tree_.SubscribeEvents(context, OwnerOf(req));
    if (!reader.ok()) return reader.status();
    return FileHandle{
        .file = std::make_shared<PortFile>(*std::move(reader)), .ino = ino, .leave_event = {}};
  }
  absl::StatusOr<std::shared_ptr<Network>> network = tree_.OpenMonitor(ino, context);
  if (!network.ok()) return network.status();
  absl::StatusOr<std::unique_ptr<Port>> monitor =
      (*network)->JoinMonitor(OwnerOf(req), context.now);
  if (!monitor.ok()) return monitor.status();
  const NetworkConfig config = (*network)->config();
  return FileHandle{
      .file = std::make_shared<PcapFile>(*std::move(monitor), config.mtu, config.link_type),
      .ino = ino,
      .leave_event = {}};
}

void FuseFilesystem::SetOpenFlags(fuse_file_info* fi, FileHandle handle) {
  fi->direct_io = 1;  // One read or write call is one FUSE request: one packet.
  // lseek: ESPIPE on networks. The event stream accepts (and ignores) seeks, because `head -n`
  // seeks back after reading from a regular file.
  fi->nonseekable = handle.ino != kEventsIno;
  fi->keep_cache = 0;
  auto* open = new FileHandle(std::move(handle));
  Track(open);
  fi->fh = reinterpret_cast<uint64_t>(open);
}

void FuseFilesystem::Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  absl::StatusOr<FileHandle> file = From(req).OpenPort(req, ino, *fi, true);
  if (!file.ok()) return ReplyStatus(req, file.status());
  From(req).SetOpenFlags(fi, *std::move(file));
  if (fuse_reply_open(req, fi) != 0) From(req).ClosePort(fi);  // The opener is gone.
}

void FuseFilesystem::Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                            fuse_file_info* fi) {
  FuseFilesystem& self = From(req);
  const OperationContext context = ContextOf(req);
  absl::StatusOr<Attributes> attr = self.tree_.MakeNetwork(parent, name, mode, context);
  bool created = attr.ok();
  if (!created && StatusToErrno(attr.status()) == EEXIST && !(fi->flags & O_EXCL)) {
    attr = self.tree_.Lookup(parent, name, context);  // Lost a race with another creator.
  }
  if (!attr.ok()) return ReplyStatus(req, attr.status());
  absl::StatusOr<FileHandle> file = self.OpenPort(req, attr->ino, *fi, !created);
  if (!file.ok()) {
    self.tree_.Forget(attr->ino, 1);
    return ReplyStatus(req, file.status());
  }
  self.SetOpenFlags(fi, *std::move(file));
  auto reply = [&self, req, entry = ToEntry(*attr), opened = *fi]() mutable {
    if (fuse_reply_create(req, &entry, &opened) != 0) self.ClosePort(&opened);
  };
  if (created) return self.AfterFaces(std::move(reply));
  reply();
}

void FuseFilesystem::Read(fuse_req_t req, fuse_ino_t, size_t size, off_t, fuse_file_info* fi) {
  (*reinterpret_cast<FileHandle*>(fi->fh)->file)
      .Read(req, size, WaitingFor(fi->flags), From(req).parked_);
}

void FuseFilesystem::Write(fuse_req_t req, fuse_ino_t, const char* data, size_t size, off_t,
                           fuse_file_info* fi) {
  (*reinterpret_cast<FileHandle*>(fi->fh)->file)
      .Write(req, data, size, WaitingFor(fi->flags), From(req).parked_);
}

void FuseFilesystem::Poll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph) {
  (*reinterpret_cast<FileHandle*>(fi->fh)->file).Poll(req, ph);
}

void FuseFilesystem::Ioctl(fuse_req_t req, fuse_ino_t, unsigned int cmd, void*, fuse_file_info* fi,
                           unsigned flags, const void* in_buf, size_t in_size, size_t) {
  if (flags & FUSE_IOCTL_DIR) {
    fuse_reply_err(req, ENOTTY);
    return;
  }
  (*reinterpret_cast<FileHandle*>(fi->fh)->file).Ioctl(req, cmd, in_buf, in_size);
}

void FuseFilesystem::Flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void FuseFilesystem::ClosePort(fuse_file_info* fi) {
  auto* open = reinterpret_cast<FileHandle*>(fi->fh);
  Untrack(open);
  if (!open->leave_event.empty()) {
    tree_.PublishEvent(open->ino, "leave", open->leave_event, absl::Now());
  }
  delete open;  // The port leaves once no parked request holds it.
}

void FuseFilesystem::Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  From(req).ClosePort(fi);
  fuse_reply_err(req, 0);
}

void FuseFilesystem::Fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
  fuse_reply_err(req, 0);
}

void FuseFilesystem::OpenDirectory(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  absl::StatusOr<std::vector<DirectoryEntry>> entries =
      From(req).tree_.ReadDirectory(ino, ContextOf(req));
  if (!entries.ok()) return ReplyStatus(req, entries.status());
  fi->fh = reinterpret_cast<uint64_t>(new std::vector<DirectoryEntry>(*std::move(entries)));
  if (fuse_reply_open(req, fi) != 0) ReleaseDirectory(nullptr, ino, fi);
}

void FuseFilesystem::ReadDirectory(fuse_req_t req, fuse_ino_t, size_t size, off_t offset,
                                   fuse_file_info* fi) {
  const auto& entries = *reinterpret_cast<std::vector<DirectoryEntry>*>(fi->fh);
  std::vector<char> buffer(size);
  size_t used = 0;
  for (size_t i = static_cast<size_t>(offset); i < entries.size(); ++i) {
    struct stat st {};
    st.st_ino = entries[i].ino;
    st.st_mode = entries[i].mode;
    const size_t needed = fuse_add_direntry(req, buffer.data() + used, size - used,
                                            entries[i].name.c_str(), &st, i + 1);
    if (needed > size - used) break;
    used += needed;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

void FuseFilesystem::ReleaseDirectory(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<std::vector<DirectoryEntry>*>(fi->fh);
  if (req != nullptr) fuse_reply_err(req, 0);
}

void FuseFilesystem::StatFs(fuse_req_t req, fuse_ino_t) {
  struct statvfs st {};
  st.f_bsize = 4096;
  st.f_frsize = 4096;
  st.f_files = From(req).tree_.node_count();
  st.f_ffree = 1 << 20;
  st.f_favail = st.f_ffree;
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

void FuseFilesystem::Access(fuse_req_t req, fuse_ino_t ino, int mask) {
  ReplyStatus(req, From(req).tree_.CheckAccess(ino, mask, ContextOf(req)));
}

}  // namespace ipnfs

namespace ipnfs {

void FuseFilesystem::SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                              size_t size, int) {
  ReplyStatus(
      req, From(req).tree_.SetAttribute(ino, name, absl::string_view(value, size), ContextOf(req)));
}

void FuseFilesystem::GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  absl::StatusOr<std::string> value = From(req).tree_.GetAttribute(ino, name, absl::Now());
  if (!value.ok()) return ReplyStatus(req, value.status());
  ReplySized(req, *value, size);
}

void FuseFilesystem::ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  absl::StatusOr<std::vector<std::string>> names = From(req).tree_.ListAttributes(ino);
  if (!names.ok()) return ReplyStatus(req, names.status());
  std::string list;
  for (const std::string& name : *names) {
    list += name;
    list.push_back('\0');
  }
  ReplySized(req, list, size);
}

void FuseFilesystem::RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  ReplyStatus(req, From(req).tree_.RemoveAttribute(ino, name, ContextOf(req)));
}

}  // namespace ipnfs
