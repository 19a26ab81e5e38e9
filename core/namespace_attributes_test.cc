// The namespace's settings (user.ipn.* attributes), directory defaults and persistence.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>

#include "core/errno_status.h"
#include "core/namespace.h"

namespace ipnfs {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

OperationContext As(uid_t uid, gid_t gid = 100) {
  return OperationContext{.who = {.uid = uid, .gid = gid, .groups = {}}, .now = kNow};
}
const OperationContext kRoot = As(0, 0);
const OperationContext kOwner = As(1000);
const OperationContext kOther = As(2000, 200);

// Records every state the namespace saves.
class RecordingSink : public StateSink {
 public:
  absl::Status Save(absl::string_view text) override {
    saved.emplace_back(text);
    return absl::OkStatus();
  }
  std::vector<std::string> saved;
};

// Attaches names to networks in memory; refuses names starting with "bad".
class FakeBackend : public InterfaceBackend {
 public:
  absl::Status Attach(InterfaceKind kind, const std::string& name,
                      const std::shared_ptr<Network>& network) override {
    if (name.rfind("bad", 0) == 0) return ErrnoError(EINVAL, "bad name");
    attached[{kind, name}] = network.get();
    return absl::OkStatus();
  }
  absl::Status Detach(InterfaceKind kind, const std::string& name, const Network&) override {
    return attached.erase({kind, name}) ? absl::OkStatus() : ErrnoError(ENOENT, "not attached");
  }
  std::vector<std::string> Attached(InterfaceKind kind, const Network& network) const override {
    std::vector<std::string> names;
    for (const auto& [key, owner] : attached) {
      if (key.first == kind && owner == &network) names.push_back(key.second);
    }
    return names;
  }
  std::map<std::pair<InterfaceKind, std::string>, const Network*> attached;
};

class NamespaceAttributesTest : public ::testing::Test {
 protected:
  ino_t MakeNet(ino_t parent, const char* name, mode_t mode, const OperationContext& who) {
    absl::StatusOr<Attributes> attr = tree_.MakeNetwork(parent, name, mode, who);
    EXPECT_TRUE(attr.ok()) << attr.status();
    return attr.ok() ? attr->ino : 0;
  }
  std::string Get(ino_t ino, const char* name) {
    absl::StatusOr<std::string> value = tree_.GetAttribute(ino, name, kNow);
    return value.ok() ? *value : "<" + std::string(value.status().message()) + ">";
  }
  int SetErrno(ino_t ino, const char* name, const char* value, const OperationContext& who) {
    return StatusToErrno(tree_.SetAttribute(ino, name, value, who));
  }

  Namespace tree_{Namespace::Options{}, kNow};
  const ino_t root_ = kRootIno;
};

TEST_F(NamespaceAttributesTest, ANetworkShowsItsSettingsAndCounters) {
  const ino_t net = MakeNet(root_, "net0", 0644, kOwner);
  EXPECT_EQ(Get(net, "user.ipn.policy"), "hub");
  EXPECT_EQ(Get(net, "user.ipn.mtu"), "65536");
  EXPECT_EQ(Get(net, "user.ipn.qlen"), "256");
  EXPECT_EQ(Get(net, "user.ipn.flow"), "drop");
  EXPECT_EQ(Get(net, "user.ipn.stall_ms"), "1000");
  EXPECT_EQ(Get(net, "user.ipn.maxports"), "0");
  EXPECT_THAT(Get(net, "user.ipn.stats"), HasSubstr("ports 0\n"));
  EXPECT_EQ(Get(net, "user.ipn.ports"), "");
  absl::StatusOr<std::vector<std::string>> names = tree_.ListAttributes(net);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 11u);  // Nine settings, stats and ports.
  EXPECT_THAT(*names, Contains("user.ipn.stats"));
}

TEST_F(NamespaceAttributesTest, TheRootListsThePoliciesReadOnly) {
  EXPECT_THAT(Get(root_, "user.ipn.policies"), HasSubstr("hub "));
  EXPECT_EQ(SetErrno(root_, "user.ipn.policies", "x", kRoot), EPERM);
  absl::StatusOr<std::vector<std::string>> names = tree_.ListAttributes(root_);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, Contains("user.ipn.policies"));
}

TEST_F(NamespaceAttributesTest, ManagingNeedsExecuteAndNothingElse) {
  const ino_t net = MakeNet(root_, "net0", 0661, kOwner);  // rw- rw- --x
  EXPECT_EQ(SetErrno(net, "user.ipn.qlen", "8", kOwner), EACCES);
  EXPECT_EQ(SetErrno(net, "user.ipn.qlen", "8", kOther), 0);
  EXPECT_EQ(SetErrno(net, "user.ipn.qlen", "9", kRoot), 0);
  EXPECT_EQ(Get(net, "user.ipn.qlen"), "9");
}

TEST_F(NamespaceAttributesTest, InvalidValuesChangeNothing) {
  const ino_t net = MakeNet(root_, "net0", 0700, kOwner);
  EXPECT_EQ(SetErrno(net, "user.ipn.mtu", "big", kOwner), EINVAL);
  EXPECT_EQ(SetErrno(net, "user.ipn.policy", "nonsense", kOwner), EINVAL);
  EXPECT_EQ(Get(net, "user.ipn.mtu"), "65536");
  EXPECT_EQ(Get(net, "user.ipn.policy"), "hub");
}

TEST_F(NamespaceAttributesTest, UnknownAndReadOnlyNamesAreRefusedAsDocumented) {
  const ino_t net = MakeNet(root_, "net0", 0700, kOwner);
  EXPECT_EQ(SetErrno(net, "user.ipn.colour", "blue", kOwner), ENOTSUP);
  EXPECT_EQ(SetErrno(net, "security.selinux", "x", kOwner), ENOTSUP);
  EXPECT_EQ(SetErrno(net, "user.ipn.stats", "0", kOwner), EPERM);
  EXPECT_EQ(SetErrno(net, "user.ipn.ports", "0", kOwner), EPERM);
  EXPECT_EQ(StatusToErrno(tree_.GetAttribute(net, "user.ipn.colour", kNow).status()), ENODATA);
  EXPECT_EQ(StatusToErrno(tree_.GetAttribute(net, "trusted.x", kNow).status()), ENODATA);
}

TEST_F(NamespaceAttributesTest, DirectoryDefaultsReachNetworksCreatedLaterNearestFirst) {
  absl::StatusOr<Attributes> lab = tree_.MakeDirectory(root_, "lab", 0777, kOwner);
  ASSERT_TRUE(lab.ok());
  absl::StatusOr<Attributes> sub = tree_.MakeDirectory(lab->ino, "sub", 0777, kOwner);
  ASSERT_TRUE(sub.ok());
  const ino_t before = MakeNet(sub->ino, "before", 0644, kOwner);
  ASSERT_EQ(SetErrno(root_, "user.ipn.qlen", "5", kRoot), 0);
  ASSERT_EQ(SetErrno(lab->ino, "user.ipn.mtu", "1500", kOwner), 0);
  ASSERT_EQ(SetErrno(sub->ino, "user.ipn.mtu", "9000", kOwner), 0);
  const ino_t after = MakeNet(sub->ino, "after", 0644, kOwner);
  EXPECT_EQ(Get(after, "user.ipn.mtu"), "9000");
  EXPECT_EQ(Get(after, "user.ipn.qlen"), "5");
  EXPECT_EQ(Get(before, "user.ipn.mtu"), "65536");
  EXPECT_EQ(Get(lab->ino, "user.ipn.mtu"), "1500");
  EXPECT_EQ(StatusToErrno(tree_.GetAttribute(lab->ino, "user.ipn.qlen", kNow).status()), ENODATA);
  EXPECT_EQ(SetErrno(lab->ino, "user.ipn.stats", "1", kOwner), EPERM);
}

TEST_F(NamespaceAttributesTest, RemovingASettingReturnsToTheInheritedValue) {
  absl::StatusOr<Attributes> lab = tree_.MakeDirectory(root_, "lab", 0777, kOwner);
  ASSERT_TRUE(lab.ok());
  ASSERT_EQ(SetErrno(lab->ino, "user.ipn.qlen", "12", kOwner), 0);
  const ino_t net = MakeNet(lab->ino, "net", 0744, kOwner);
  ASSERT_EQ(SetErrno(net, "user.ipn.qlen", "99", kOwner), 0);
  ASSERT_TRUE(tree_.RemoveAttribute(net, "user.ipn.qlen", kOwner).ok());
  EXPECT_EQ(Get(net, "user.ipn.qlen"), "12");
  ASSERT_TRUE(tree_.RemoveAttribute(lab->ino, "user.ipn.qlen", kOwner).ok());
  EXPECT_EQ(StatusToErrno(tree_.RemoveAttribute(lab->ino, "user.ipn.qlen", kOwner)), ENODATA);
}

TEST_F(NamespaceAttributesTest, MaxPortsRefusesTheNextJoinWithEusers) {
  const ino_t net = MakeNet(root_, "net0", 0744, kOwner);
  ASSERT_EQ(SetErrno(net, "user.ipn.maxports", "1", kOwner), 0);
  absl::StatusOr<std::shared_ptr<Network>> network = tree_.OpenNetwork(net, kMayRead, kOwner);
  ASSERT_TRUE(network.ok());
  auto first = (*network)->Join(PortMode::kReceive, PortOwner{}, kNow);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(StatusToErrno((*network)->Join(PortMode::kReceive, PortOwner{}, kNow).status()),
            EUSERS);
  first->reset();
  EXPECT_TRUE((*network)->Join(PortMode::kReceive, PortOwner{}, kNow).ok());
}

TEST_F(NamespaceAttributesTest, EveryChangeIsSavedAndNothingElse) {
  RecordingSink sink;
  tree_.SetStateSink(&sink);
  const ino_t net = MakeNet(root_, "net0", 0744, kOwner);
  ASSERT_EQ(sink.saved.size(), 1u);
  EXPECT_THAT(sink.saved.back(), HasSubstr("net /net0 744 1000 100"));
  ASSERT_EQ(SetErrno(net, "user.ipn.qlen", "3", kOwner), 0);
  EXPECT_THAT(sink.saved.back(), HasSubstr("qlen=3"));
  ASSERT_TRUE(tree_.GetAttribute(net, "user.ipn.stats", kNow).ok());
  ASSERT_TRUE(tree_.Lookup(root_, "net0", kOwner).ok());
  EXPECT_EQ(sink.saved.size(), 2u);  // Reads and lookups are not changes.
  EXPECT_EQ(SetErrno(net, "user.ipn.qlen", "bad", kOwner), EINVAL);
  EXPECT_EQ(sink.saved.size(), 2u);
  ASSERT_TRUE(tree_.Unlink(root_, "net0", kOwner).ok());
  EXPECT_THAT(sink.saved.back(), Not(HasSubstr("net0")));
}

TEST_F(NamespaceAttributesTest, ASnapshotRestoresTheSameNamespace) {
  absl::StatusOr<Attributes> lab = tree_.MakeDirectory(root_, "lab net", 0750, kOwner);
  ASSERT_TRUE(lab.ok());
  ASSERT_EQ(SetErrno(lab->ino, "user.ipn.mtu", "1500", kOwner), 0);
  const ino_t net = MakeNet(lab->ino, "n1", 0740, kOwner);
  ASSERT_EQ(SetErrno(net, "user.ipn.flow", "block", kOwner), 0);
  ASSERT_TRUE(tree_.MakeSymlink(root_, "alias", "lab net/n1", kOwner).ok());
  const std::vector<StateEntry> saved = tree_.Snapshot();

  Namespace restored(Namespace::Options{}, kNow + absl::Hours(1));
  ASSERT_TRUE(restored.Restore(saved, kNow + absl::Hours(1)).ok());
  EXPECT_EQ(restored.Snapshot(), saved);
  absl::StatusOr<Attributes> n1 =
      restored.Lookup(restored.Lookup(root_, "lab net", kOwner)->ino, "n1", kOwner);
  ASSERT_TRUE(n1.ok());
  EXPECT_EQ(n1->mode, static_cast<mode_t>(S_IFREG | 0740));
  EXPECT_EQ(*restored.GetAttribute(n1->ino, "user.ipn.flow", kNow), "block");
  EXPECT_EQ(*restored.GetAttribute(n1->ino, "user.ipn.mtu", kNow), "1500");
}

TEST_F(NamespaceAttributesTest, RestoreRefusesEntriesWithoutTheirDirectory) {
  StateEntry orphan;
  orphan.type = StateEntry::Type::kNetwork;
  orphan.path = "/missing/net";
  EXPECT_FALSE(tree_.Restore({orphan}, kNow).ok());
}

TEST_F(NamespaceAttributesTest, TapListsAttachAndDetachToMatchAllOrNothing) {
  FakeBackend backend;
  tree_.SetInterfaceBackend(&backend);
  const ino_t net = MakeNet(root_, "net0", 0744, kOwner);
  EXPECT_EQ(StatusToErrno(tree_.GetAttribute(net, "user.ipn.tap", kNow).status()), ENODATA);
  ASSERT_EQ(SetErrno(net, "user.ipn.tap", "ipn1, ipn0,ipn1", kOwner), 0);
  EXPECT_EQ(Get(net, "user.ipn.tap"), "ipn0,ipn1");
  EXPECT_EQ(SetErrno(net, "user.ipn.tap", "ipn0,ipn2,bad9", kOwner), EINVAL);
  EXPECT_EQ(Get(net, "user.ipn.tap"), "ipn0,ipn1");
  ASSERT_EQ(SetErrno(net, "user.ipn.tap", "ipn2", kOwner), 0);
  EXPECT_EQ(Get(net, "user.ipn.tap"), "ipn2");
  EXPECT_EQ(SetErrno(net, "user.ipn.grab", "eth1", kOther), EACCES);
  ASSERT_TRUE(tree_.RemoveAttribute(net, "user.ipn.tap", kOwner).ok());
  EXPECT_TRUE(backend.attached.empty());
}

TEST_F(NamespaceAttributesTest, WithoutABackendInterfacesAreNotSupported) {
  const ino_t net = MakeNet(root_, "net0", 0744, kOwner);
  EXPECT_EQ(SetErrno(net, "user.ipn.tap", "ipn0", kOwner), ENOTSUP);
}

TEST_F(NamespaceAttributesTest, UnlinkingANetworkDetachesItsInterfaces) {
  FakeBackend backend;
  tree_.SetInterfaceBackend(&backend);
  const ino_t net = MakeNet(root_, "net0", 0744, kOwner);
  ASSERT_EQ(SetErrno(net, "user.ipn.tap", "ipn0", kOwner), 0);
  ASSERT_EQ(SetErrno(net, "user.ipn.grab", "eth1", kOwner), 0);
  ASSERT_TRUE(tree_.Unlink(root_, "net0", kOwner).ok());
  EXPECT_TRUE(backend.attached.empty());
}

TEST_F(NamespaceAttributesTest, InterfacesAreSavedAndComeBackOnRestore) {
  FakeBackend backend;
  tree_.SetInterfaceBackend(&backend);
  const ino_t net = MakeNet(root_, "net0", 0744, kOwner);
  ASSERT_EQ(SetErrno(net, "user.ipn.tap", "ipn0,ipn1", kOwner), 0);
  const std::vector<StateEntry> saved = tree_.Snapshot();
  backend.attached.clear();

  FakeBackend fresh;
  Namespace restored(Namespace::Options{}, kNow);
  restored.SetInterfaceBackend(&fresh);
  ASSERT_TRUE(restored.Restore(saved, kNow).ok());
  absl::StatusOr<Attributes> attr = restored.Lookup(root_, "net0", kOwner);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(*restored.GetAttribute(attr->ino, "user.ipn.tap", kNow), "ipn0,ipn1");
}

TEST_F(NamespaceAttributesTest, ARenamedNetworkIsSavedUnderItsNewPath) {
  absl::StatusOr<Attributes> a = tree_.MakeDirectory(root_, "a", 0777, kOwner);
  absl::StatusOr<Attributes> b = tree_.MakeDirectory(root_, "b", 0777, kOwner);
  ASSERT_TRUE(a.ok() && b.ok());
  MakeNet(a->ino, "net", 0644, kOwner);
  ASSERT_TRUE(tree_.Rename(a->ino, "net", b->ino, "moved", 0, kOwner).ok());
  ASSERT_TRUE(tree_.RemoveDirectory(root_, "a", kOwner).ok());
  std::vector<std::string> paths;
  for (const StateEntry& entry : tree_.Snapshot()) paths.push_back(entry.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/", "/b", "/b/moved"}));
}

}  // namespace
}  // namespace ipnfs
