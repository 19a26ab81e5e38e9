// Tests for the socket-face mirrors /.seqpacket and /.stream: what they show before and after the
// FaceBackend binds a face, who may bind, and when the backend hears of networks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/face_backend.h"
#include "core/namespace.h"

namespace ipnfs {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
constexpr pid_t kBinderTid = 4242;

OperationContext Root() { return {Credentials{0, 0, {}}, kStart}; }
OperationContext Alice() { return {Credentials{1000, 1000, {}}, kStart}; }

// Records what the namespace tells it; binds whatever it was told to expose, from kBinderTid.
class FakeFaces : public FaceBackend {
 public:
  void Expose(ino_t ino, const std::shared_ptr<Network>&) override { exposed.push_back(ino); }
  void Withdraw(ino_t ino) override { withdrawn.push_back(ino); }
  void WhenExposed(absl::AnyInvocable<void()> done) override { done(); }
  bool IsBinding(pid_t tid, ino_t ino, FaceKind) const override {
    return tid == kBinderTid && std::find(exposed.begin(), exposed.end(), ino) != exposed.end();
  }

  std::vector<ino_t> exposed;
  std::vector<ino_t> withdrawn;
};

class NamespaceFacesTest : public testing::Test {
 protected:
  NamespaceFacesTest() : tree_(Namespace::Options{}, kStart) { tree_.SetFaceBackend(&faces_); }

  ino_t Face(View view) {
    return tree_.Lookup(kRootIno, view == View::kSeqpacket ? kSeqpacketName : kStreamName, Root())
        ->ino;
  }

  FakeFaces faces_;
  Namespace tree_;
};

TEST_F(NamespaceFacesTest, TheRootListsBothFaceTrees) {
  auto entries = tree_.ReadDirectory(kRootIno, Root());
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> names;
  for (const DirectoryEntry& entry : *entries) names.push_back(entry.name);
  EXPECT_NE(std::find(names.begin(), names.end(), ".seqpacket"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), ".stream"), names.end());
}

TEST_F(NamespaceFacesTest, FaceNamesAreReservedAtTheRoot) {
  EXPECT_EQ(StatusToErrno(tree_.MakeNetwork(kRootIno, ".seqpacket", 0666, Root()).status()),
            EEXIST);
  EXPECT_EQ(StatusToErrno(tree_.MakeDirectory(kRootIno, ".stream", 0777, Root()).status()), EEXIST);
  EXPECT_EQ(StatusToErrno(tree_.Unlink(kRootIno, ".stream", Root())), EPERM);
}

TEST_F(NamespaceFacesTest, ANewNetworkIsExposedAndShownOnlyOnceBound) {
  auto net = tree_.MakeNetwork(kRootIno, "net", 0640, Alice());
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(faces_.exposed, std::vector<ino_t>{net->ino});
  const ino_t dir = Face(View::kSeqpacket);
  EXPECT_EQ(StatusToErrno(tree_.Lookup(dir, "net", Root()).status()), ENOENT);

  auto bound = tree_.BindFace(dir, "net", kBinderTid);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ(bound->mode, S_IFSOCK | 0640);
  EXPECT_EQ(bound->uid, 1000u);
  auto found = tree_.Lookup(dir, "net", Root());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->ino, bound->ino);
  // The other face is not bound yet.
  EXPECT_EQ(StatusToErrno(tree_.Lookup(Face(View::kStream), "net", Root()).status()), ENOENT);
}

TEST_F(NamespaceFacesTest, OnlyTheBackendBindsAndOnlyOnce) {
  ASSERT_TRUE(tree_.MakeNetwork(kRootIno, "net", 0666, Root()).ok());
  const ino_t dir = Face(View::kStream);
  EXPECT_EQ(StatusToErrno(tree_.BindFace(dir, "net", kBinderTid + 1).status()), EROFS);
  EXPECT_EQ(StatusToErrno(tree_.BindFace(dir, "other", kBinderTid).status()), EROFS);
  ASSERT_TRUE(tree_.BindFace(dir, "net", kBinderTid).ok());
  EXPECT_EQ(StatusToErrno(tree_.BindFace(dir, "net", kBinderTid).status()), EEXIST);
  EXPECT_EQ(StatusToErrno(tree_.BindFace(kRootIno, "net", kBinderTid).status()), EROFS);
}

TEST_F(NamespaceFacesTest, TheSocketFollowsChmodAndRename) {
  auto net = tree_.MakeNetwork(kRootIno, "net", 0666, Root());
  ASSERT_TRUE(net.ok());
  const ino_t dir = Face(View::kSeqpacket);
  auto bound = tree_.BindFace(dir, "net", kBinderTid);
  ASSERT_TRUE(bound.ok());
  AttributeChanges chmod;
  chmod.mode = 0604;
  ASSERT_TRUE(tree_.SetAttributes(net->ino, chmod, Root()).ok());
  EXPECT_EQ(tree_.GetAttributes(bound->ino)->mode, S_IFSOCK | 0604);
  ASSERT_TRUE(tree_.Rename(kRootIno, "net", kRootIno, "moved", 0, Root()).ok());
  EXPECT_EQ(StatusToErrno(tree_.Lookup(dir, "net", Root()).status()), ENOENT);
  EXPECT_EQ(tree_.Lookup(dir, "moved", Root())->ino, bound->ino);
  EXPECT_EQ(*tree_.FacePath(net->ino), "moved");
}

TEST_F(NamespaceFacesTest, DirectoriesAreMirroredAndPathsAreRelative) {
  auto a = tree_.MakeDirectory(kRootIno, "a", 0755, Root());
  ASSERT_TRUE(a.ok());
  auto net = tree_.MakeNetwork(a->ino, "net", 0666, Root());
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(*tree_.FacePath(net->ino), "a/net");
  auto mirrored = tree_.Lookup(Face(View::kStream), "a", Root());
  ASSERT_TRUE(mirrored.ok());
  EXPECT_TRUE(S_ISDIR(mirrored->mode));
  EXPECT_EQ(StatusToErrno(tree_.MakeNetwork(mirrored->ino, "x", 0666, Root()).status()), EROFS);
  ASSERT_TRUE(tree_.BindFace(mirrored->ino, "net", kBinderTid).ok());
  auto entries = tree_.ReadDirectory(mirrored->ino, Root());
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].name, "net");
  EXPECT_EQ((*entries)[2].mode, static_cast<mode_t>(S_IFSOCK));
}

TEST_F(NamespaceFacesTest, RemovingANetworkWithdrawsItsFaces) {
  auto net = tree_.MakeNetwork(kRootIno, "net", 0666, Root());
  ASSERT_TRUE(net.ok());
  ASSERT_TRUE(tree_.Unlink(kRootIno, "net", Root()).ok());
  EXPECT_EQ(faces_.withdrawn, std::vector<ino_t>{net->ino});
  EXPECT_EQ(StatusToErrno(tree_.FacePath(net->ino).status()), ENOENT);
}

TEST_F(NamespaceFacesTest, ABackendSetLaterExposesExistingNetworks) {
  Namespace other(Namespace::Options{}, kStart);
  auto net = other.MakeNetwork(kRootIno, "net", 0666, Root());
  ASSERT_TRUE(net.ok());
  FakeFaces late;
  other.SetFaceBackend(&late);
  EXPECT_EQ(late.exposed, std::vector<ino_t>{net->ino});
}

}  // namespace
}  // namespace ipnfs
