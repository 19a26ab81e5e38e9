// FuseFilesystem: the libfuse low-level operations of ipnfs, one small handler per operation.
//
// Namespace operations go to the core's Namespace; an open network file becomes a PortFile. Every
// handler ends in exactly one reply, now or (for a parked read) later. Handlers run on libfuse
// worker threads and never block waiting for a packet. Owns nothing but the parked-read registry;
// the Namespace must outlive it.
#ifndef IPNFS_FS_FUSE_FILESYSTEM_H_
#define IPNFS_FS_FUSE_FILESYSTEM_H_

#include <fuse3/fuse_lowlevel.h>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "core/face_backend.h"
#include "core/namespace.h"
#include "fs/port_file.h"

namespace ipnfs {

class FuseFilesystem {
 public:
  // `tree` must outlive the filesystem.
  explicit FuseFilesystem(Namespace& tree);
  FuseFilesystem(const FuseFilesystem&) = delete;
  FuseFilesystem& operator=(const FuseFilesystem&) = delete;

  // The operations table; pass `this` as the session's userdata.
  static fuse_lowlevel_ops Operations();

  // From now on, a network's creation is answered once `faces` has bound its sockets. `faces`
  // must outlive the filesystem. Call before the session serves requests.
  void SetFaceBackend(FaceBackend* faces) { faces_ = faces; }

  // At the end of a session: answers every parked read (EINTR) so that no request is left
  // unanswered, then closes the ports the kernel never released.
  void CloseAll();

 private:
  static FuseFilesystem& From(fuse_req_t req);

  static void Init(void* userdata, fuse_conn_info* conn);
  static void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
  static void ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets);
  static void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                      fuse_file_info* fi);
  static void ReadLink(fuse_req_t req, fuse_ino_t ino);
  static void MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                       dev_t rdev);
  static void MakeDirectory(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
  static void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void RemoveDirectory(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);
  static void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
                     const char* new_name, unsigned int flags);
  static void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name);
  static void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                     fuse_file_info* fi);
  static void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi);
  static void Write(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t offset,
                    fuse_file_info* fi);
  static void Poll(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, fuse_pollhandle* ph);
  static void Ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void* arg, fuse_file_info* fi,
                    unsigned flags, const void* in_buf, size_t in_size, size_t out_size);
  static void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
  static void OpenDirectory(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void ReadDirectory(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                            fuse_file_info* fi);
  static void ReleaseDirectory(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void StatFs(fuse_req_t req, fuse_ino_t ino);
  static void Access(fuse_req_t req, fuse_ino_t ino, int mask);
  static void SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                       size_t size, int flags);
  static void GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
  static void ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  static void RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name);

  // What fi->fh points to.
  struct FileHandle {
    std::shared_ptr<OpenFile> file;
    ino_t ino = 0;
    std::string leave_event;  // Details of the "leave" event published at close, if any.
  };

  // Joins the network `ino` as a port for `fi->flags`; `check` false skips the permission check
  // (a file just created is opened whatever its mode, as creat(2) does).
  absl::StatusOr<FileHandle> OpenPort(fuse_req_t req, fuse_ino_t ino, const fuse_file_info& fi,
                                      bool check);
  // Opens a virtual file: a monitor under /.pcap or the event stream.
  absl::StatusOr<FileHandle> OpenVirtual(fuse_req_t req, fuse_ino_t ino, const fuse_file_info& fi);
  // Fills `fi` for an open file.
  void SetOpenFlags(fuse_file_info* fi, FileHandle handle);
  // Closes the port of `fi` (release, or an open whose opener vanished).
  void ClosePort(fuse_file_info* fi);

  void Track(FileHandle* file);
  void Untrack(FileHandle* file);

  // Runs `reply` once the faces of the networks made so far are bound (at once without faces).
  void AfterFaces(absl::AnyInvocable<void()> reply);

  Namespace& tree_;
  FaceBackend* faces_ = nullptr;
  ParkedRequests parked_;
  absl::Mutex open_mu_;
  absl::flat_hash_set<FileHandle*> open_ ABSL_GUARDED_BY(open_mu_);
};

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_FILESYSTEM_H_
