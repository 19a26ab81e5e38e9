// Tests for Namespace through its public contract: the tree, lookup counting, permissions as a
// kernel filesystem would check them, and the networks its files hold.
#include "core/namespace.h"

#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/access.h"
#include "core/errno_status.h"
#include "core/network.h"
#include "core/port.h"

namespace ipnfs {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const absl::Time kLater = kStart + absl::Minutes(5);

constexpr uid_t kAlice = 1000;
constexpr gid_t kAliceGroup = 1000;
constexpr uid_t kBob = 1001;
constexpr gid_t kBobGroup = 1001;
constexpr gid_t kStaff = 50;      // Alice is a supplementary member.
constexpr gid_t kOutsiders = 60;  // Nobody in these tests is a member.

OperationContext Root(absl::Time now = kStart) { return {Credentials{0, 0, {}}, now}; }
OperationContext Alice(absl::Time now = kStart) {
  return {Credentials{kAlice, kAliceGroup, {kStaff}}, now};
}
OperationContext Bob(absl::Time now = kStart) { return {Credentials{kBob, kBobGroup, {}}, now}; }

constexpr ino_t kRoot = kRootIno;

// Setattr requests, one field each (g++ 12 warns about designated initializers that leave out
// members without a default initializer).
AttributeChanges Chmod(mode_t mode) {
  AttributeChanges changes;
  changes.mode = mode;
  return changes;
}
AttributeChanges Chown(uid_t uid) {
  AttributeChanges changes;
  changes.uid = uid;
  return changes;
}
AttributeChanges Chgrp(gid_t gid) {
  AttributeChanges changes;
  changes.gid = gid;
  return changes;
}
AttributeChanges Truncate(off_t size) {
  AttributeChanges changes;
  changes.size = size;
  return changes;
}
AttributeChanges Touch() {
  AttributeChanges changes;
  changes.atime_now = true;
  changes.mtime_now = true;
  return changes;
}
AttributeChanges SetMtime(absl::Time mtime) {
  AttributeChanges changes;
  changes.mtime = mtime;
  return changes;
}

class NamespaceTest : public ::testing::Test {
 protected:
  // Creates `name` in `parent` and returns its inode, failing the test if that is refused.
  ino_t NewNetwork(ino_t parent, const std::string& name, mode_t mode,
                   const OperationContext& context) {
    absl::StatusOr<Attributes> made = ns_.MakeNetwork(parent, name, mode, context);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->ino : 0;
  }
  ino_t NewDirectory(ino_t parent, const std::string& name, mode_t mode,
                     const OperationContext& context) {
    absl::StatusOr<Attributes> made = ns_.MakeDirectory(parent, name, mode, context);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->ino : 0;
  }
  Attributes Attr(ino_t ino) {
    absl::StatusOr<Attributes> attr = ns_.GetAttributes(ino);
    EXPECT_TRUE(attr.ok()) << attr.status();
    return attr.ok() ? *attr : Attributes{};
  }
  // The inode `name` in `parent` refers to (as root, which may search anything), or 0. Like any
  // Lookup, it counts one kernel lookup on what it finds.
  ino_t InodeOf(ino_t parent, const std::string& name) {
    absl::StatusOr<Attributes> found = ns_.Lookup(parent, name, Root());
    return found.ok() ? found->ino : 0;
  }
  int LookupErrno(ino_t parent, const std::string& name) {
    return StatusToErrno(ns_.Lookup(parent, name, Root()).status());
  }

  Namespace ns_{Namespace::Options{}, kStart};
};

std::vector<std::string> Names(const std::vector<DirectoryEntry>& entries) {
  std::vector<std::string> names;
  for (const DirectoryEntry& entry : entries) names.push_back(entry.name);
  return names;
}

// ---- The root directory ----

TEST_F(NamespaceTest, RootIsAStickyWorldWritableDirectoryByDefault) {
  const Attributes root = Attr(kRoot);
  EXPECT_EQ(root.ino, kRoot);
  EXPECT_EQ(root.mode, static_cast<mode_t>(S_IFDIR | 01777));
  EXPECT_EQ(root.nlink, 2u);
  EXPECT_EQ(root.uid, 0u);
  EXPECT_EQ(root.gid, 0u);
  EXPECT_EQ(root.mtime, kStart);
}

TEST(Namespace, RootTakesItsOwnerAndModeFromTheOptions) {
  Namespace::Options options;
  options.root_mode = 0750;
  options.root_uid = kAlice;
  options.root_gid = kStaff;
  Namespace ns(options, kStart);

  absl::StatusOr<Attributes> root = ns.GetAttributes(kRootIno);

  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->mode, static_cast<mode_t>(S_IFDIR | 0750));
  EXPECT_EQ(root->uid, kAlice);
  EXPECT_EQ(root->gid, kStaff);
}

// ---- Creating ----

TEST_F(NamespaceTest, MakeNetworkCreatesAnEmptyRegularFileOwnedByTheCaller) {
  absl::StatusOr<Attributes> made = ns_.MakeNetwork(kRoot, "lan", 0640, Alice());

  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->mode, static_cast<mode_t>(S_IFREG | 0640));
  EXPECT_EQ(made->uid, kAlice);
  EXPECT_EQ(made->gid, kAliceGroup);
  EXPECT_EQ(made->size, 0);
  EXPECT_EQ(made->nlink, 1u);
  absl::StatusOr<Attributes> found = ns_.Lookup(kRoot, "lan", Alice());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->ino, made->ino);
  EXPECT_EQ(found->mode, made->mode);
}

TEST_F(NamespaceTest, CreatingATakenNameFailsWithEexist) {
  NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.MakeNetwork(kRoot, "lan", 0644, Alice()).status()), EEXIST);
  EXPECT_EQ(StatusToErrno(ns_.MakeDirectory(kRoot, "lan", 0755, Alice()).status()), EEXIST);
  EXPECT_EQ(StatusToErrno(ns_.MakeSymlink(kRoot, "lan", "x", Alice()).status()), EEXIST);
}

TEST_F(NamespaceTest, NewDirectoryHasTwoLinksAndGivesItsParentOneMore) {
  absl::StatusOr<Attributes> made = ns_.MakeDirectory(kRoot, "dir", 0755, Alice());

  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->mode, static_cast<mode_t>(S_IFDIR | 0755));
  EXPECT_EQ(made->nlink, 2u);
  EXPECT_EQ(Attr(kRoot).nlink, 3u);
}

TEST_F(NamespaceTest, RemovingADirectoryTakesBackItsParentsLink) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());
  NewDirectory(dir, "sub", 0755, Alice());
  ASSERT_EQ(Attr(dir).nlink, 3u);

  ASSERT_TRUE(ns_.RemoveDirectory(dir, "sub", Alice()).ok());

  EXPECT_EQ(Attr(dir).nlink, 2u);
}

TEST_F(NamespaceTest, CreatingNeedsWriteAndSearchPermissionOnTheParent) {
  const ino_t no_write = NewDirectory(kRoot, "no-write", 0755, Root());
  const ino_t no_search = NewDirectory(kRoot, "no-search", 0776, Root());
  const ino_t open = NewDirectory(kRoot, "open", 0777, Root());

  EXPECT_EQ(StatusToErrno(ns_.MakeNetwork(no_write, "lan", 0644, Alice()).status()), EACCES);
  EXPECT_EQ(StatusToErrno(ns_.MakeNetwork(no_search, "lan", 0644, Alice()).status()), EACCES);
  EXPECT_EQ(StatusToErrno(ns_.MakeDirectory(no_write, "d", 0755, Alice()).status()), EACCES);
  EXPECT_EQ(StatusToErrno(ns_.MakeSymlink(no_write, "s", "x", Alice()).status()), EACCES);
  EXPECT_TRUE(ns_.MakeNetwork(open, "lan", 0644, Alice()).ok());
}

TEST_F(NamespaceTest, LookupNeedsSearchPermissionOnTheDirectory) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0776, Root());
  NewNetwork(dir, "lan", 0644, Root());

  EXPECT_EQ(StatusToErrno(ns_.Lookup(dir, "lan", Alice()).status()), EACCES);
  EXPECT_TRUE(ns_.Lookup(dir, "lan", Root()).ok());
}

TEST_F(NamespaceTest, SymlinkKeepsItsTarget) {
  absl::StatusOr<Attributes> link = ns_.MakeSymlink(kRoot, "link", "../other/lan", Alice());

  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_TRUE(S_ISLNK(link->mode));
  EXPECT_EQ(link->size, 12);
  EXPECT_EQ(link->uid, kAlice);
  absl::StatusOr<std::string> target = ns_.ReadLink(link->ino);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(*target, "../other/lan");
}

TEST_F(NamespaceTest, ReadLinkOfANetworkFailsWithEinval) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.ReadLink(lan).status()), EINVAL);
}

// ---- Lookup counting and removal ----

TEST_F(NamespaceTest, UnlinkedNetworkLivesUntilTheKernelForgetsItsLookups) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());  // Counts one lookup.
  ASSERT_TRUE(ns_.Lookup(kRoot, "lan", Alice()).ok());        // And a second.

  ASSERT_TRUE(ns_.Unlink(kRoot, "lan", Alice()).ok());
  EXPECT_EQ(LookupErrno(kRoot, "lan"), ENOENT);
  absl::StatusOr<Attributes> unlinked = ns_.GetAttributes(lan);
  ASSERT_TRUE(unlinked.ok()) << unlinked.status();
  EXPECT_EQ(unlinked->nlink, 0u);

  ns_.Forget(lan, 1);
  EXPECT_TRUE(ns_.GetAttributes(lan).ok());
  ns_.Forget(lan, 1);
  EXPECT_EQ(StatusToErrno(ns_.GetAttributes(lan).status()), ENOENT);
}

TEST_F(NamespaceTest, ForgottenNetworkStaysWhileItHasAName) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  ns_.Forget(lan, 1);

  EXPECT_TRUE(ns_.GetAttributes(lan).ok());
  EXPECT_EQ(InodeOf(kRoot, "lan"), lan);
}

TEST_F(NamespaceTest, JoinedPortsKeepWorkingAfterTheNetworkIsUnlinkedAndForgotten) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0666, Alice());
  absl::StatusOr<std::shared_ptr<Network>> network =
      ns_.OpenNetwork(lan, kMayRead | kMayWrite, Alice());
  ASSERT_TRUE(network.ok()) << network.status();
  absl::StatusOr<std::unique_ptr<Port>> sender =
      (*network)->Join(PortMode::kSend, PortOwner{}, kStart);
  absl::StatusOr<std::unique_ptr<Port>> receiver =
      (*network)->Join(PortMode::kReceive, PortOwner{}, kStart);
  ASSERT_TRUE(sender.ok() && receiver.ok());
  network->reset();

  ASSERT_TRUE(ns_.Unlink(kRoot, "lan", Alice()).ok());
  ns_.Forget(lan, 1);
  ASSERT_EQ(StatusToErrno(ns_.GetAttributes(lan).status()), ENOENT);

  const uint8_t packet[] = {1, 2, 3};
  EXPECT_TRUE((*sender)->Send(packet, kLater).ok());
  EXPECT_EQ((*receiver)->queued(), 1u);
}

TEST_F(NamespaceTest, NetworkMtimeFollowsTheLastPacketSent) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());
  ASSERT_EQ(Attr(lan).mtime, kStart);
  absl::StatusOr<std::shared_ptr<Network>> network = ns_.OpenNetwork(lan, kMayWrite, Alice());
  ASSERT_TRUE(network.ok()) << network.status();
  absl::StatusOr<std::unique_ptr<Port>> port =
      (*network)->Join(PortMode::kSend, PortOwner{}, kStart);
  ASSERT_TRUE(port.ok()) << port.status();

  const uint8_t packet[] = {1, 2, 3};
  ASSERT_TRUE((*port)->Send(packet, kLater).ok());

  EXPECT_EQ(Attr(lan).mtime, kLater);
}

TEST_F(NamespaceTest, RemoveDirectoryOfANonEmptyDirectoryFailsWithEnotempty) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());
  NewNetwork(dir, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.RemoveDirectory(kRoot, "dir", Alice())), ENOTEMPTY);
  EXPECT_EQ(InodeOf(kRoot, "dir"), dir);
}

TEST_F(NamespaceTest, RemoveDirectoryOfANetworkFailsWithEnotdir) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.RemoveDirectory(kRoot, "lan", Alice())), ENOTDIR);
  EXPECT_EQ(InodeOf(kRoot, "lan"), lan);
}

TEST_F(NamespaceTest, UnlinkOfADirectoryFailsWithEisdir) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());

  EXPECT_EQ(StatusToErrno(ns_.Unlink(kRoot, "dir", Alice())), EISDIR);
  EXPECT_EQ(InodeOf(kRoot, "dir"), dir);
}

TEST_F(NamespaceTest, StickyDirectoryStopsOthersFromRemovingAnEntryButNotItsOwner) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0666, Alice());

  EXPECT_EQ(StatusToErrno(ns_.Unlink(kRoot, "lan", Bob())), EPERM);
  EXPECT_EQ(InodeOf(kRoot, "lan"), lan);
  EXPECT_TRUE(ns_.Unlink(kRoot, "lan", Alice()).ok());
  EXPECT_EQ(LookupErrno(kRoot, "lan"), ENOENT);
}

TEST_F(NamespaceTest, RootMayRemoveAnyEntryFromAStickyDirectory) {
  // A sticky directory owned by neither root nor the entry's owner.
  const ino_t shared = NewDirectory(kRoot, "shared", 01777, Bob());
  NewNetwork(shared, "lan", 0644, Alice());

  EXPECT_TRUE(ns_.Unlink(shared, "lan", Root()).ok());
  EXPECT_EQ(LookupErrno(shared, "lan"), ENOENT);
}

TEST_F(NamespaceTest, OwnerOfAStickyDirectoryMayRemoveAnyEntryInIt) {
  const ino_t shared = NewDirectory(kRoot, "shared", 01777, Bob());
  NewNetwork(shared, "lan", 0644, Alice());

  EXPECT_TRUE(ns_.Unlink(shared, "lan", Bob()).ok());
  EXPECT_EQ(LookupErrno(shared, "lan"), ENOENT);
}

TEST_F(NamespaceTest, RemovingNeedsWriteAndSearchPermissionOnTheParent) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0777, Root());
  NewNetwork(dir, "lan", 0666, Alice());
  ASSERT_TRUE(ns_.SetAttributes(dir, Chmod(0755), Root()).ok());

  EXPECT_EQ(StatusToErrno(ns_.Unlink(dir, "lan", Alice())), EACCES);
  EXPECT_NE(InodeOf(dir, "lan"), 0u);
}

TEST_F(NamespaceTest, WithoutTheStickyBitAnyoneWhoMayWriteTheDirectoryRemovesAnEntry) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0777, Root());
  NewNetwork(dir, "lan", 0644, Alice());

  EXPECT_TRUE(ns_.Unlink(dir, "lan", Bob()).ok());
  EXPECT_EQ(LookupErrno(dir, "lan"), ENOENT);
}

// ---- Rename ----

TEST_F(NamespaceTest, RenameWithinADirectoryMovesTheName) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  ASSERT_TRUE(ns_.Rename(kRoot, "lan", kRoot, "wan", 0, Alice()).ok());

  EXPECT_EQ(LookupErrno(kRoot, "lan"), ENOENT);
  EXPECT_EQ(InodeOf(kRoot, "wan"), lan);
}

TEST_F(NamespaceTest, RenameAcrossDirectoriesMovesTheEntry) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  ASSERT_TRUE(ns_.Rename(kRoot, "lan", dir, "lan2", 0, Alice()).ok());

  EXPECT_EQ(LookupErrno(kRoot, "lan"), ENOENT);
  EXPECT_EQ(InodeOf(dir, "lan2"), lan);
}

TEST_F(NamespaceTest, MovingADirectoryMovesItsLinkAndItsParentEntry) {
  const ino_t from = NewDirectory(kRoot, "from", 0755, Alice());
  const ino_t to = NewDirectory(kRoot, "to", 0755, Alice());
  const ino_t sub = NewDirectory(from, "sub", 0755, Alice());

  ASSERT_TRUE(ns_.Rename(from, "sub", to, "sub", 0, Alice()).ok());

  EXPECT_EQ(Attr(from).nlink, 2u);
  EXPECT_EQ(Attr(to).nlink, 3u);
  absl::StatusOr<std::vector<DirectoryEntry>> entries = ns_.ReadDirectory(sub, Alice());
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_GE(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].name, "..");
  EXPECT_EQ((*entries)[1].ino, to);
}

TEST_F(NamespaceTest, RenameReplacesAnExistingNetwork) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());
  const ino_t old = NewNetwork(kRoot, "wan", 0644, Alice());

  ASSERT_TRUE(ns_.Rename(kRoot, "lan", kRoot, "wan", 0, Alice()).ok());

  EXPECT_EQ(InodeOf(kRoot, "wan"), lan);
  EXPECT_EQ(LookupErrno(kRoot, "lan"), ENOENT);
  // The replaced network lost its name; the kernel's lookup keeps it reachable until forgotten.
  EXPECT_EQ(Attr(old).nlink, 0u);
}

TEST_F(NamespaceTest, RenameNoreplaceOntoAnExistingNameFailsWithEexist) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());
  const ino_t wan = NewNetwork(kRoot, "wan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.Rename(kRoot, "lan", kRoot, "wan", RENAME_NOREPLACE, Alice())),
            EEXIST);

  EXPECT_EQ(InodeOf(kRoot, "lan"), lan);
  EXPECT_EQ(InodeOf(kRoot, "wan"), wan);
}

TEST_F(NamespaceTest, RenameNoreplaceOntoAFreeNameRenames) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_TRUE(ns_.Rename(kRoot, "lan", kRoot, "wan", RENAME_NOREPLACE, Alice()).ok());

  EXPECT_EQ(InodeOf(kRoot, "wan"), lan);
}

TEST_F(NamespaceTest, RenameExchangeFailsWithEinval) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());
  const ino_t wan = NewNetwork(kRoot, "wan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.Rename(kRoot, "lan", kRoot, "wan", RENAME_EXCHANGE, Alice())),
            EINVAL);

  EXPECT_EQ(InodeOf(kRoot, "lan"), lan);
  EXPECT_EQ(InodeOf(kRoot, "wan"), wan);
}

TEST_F(NamespaceTest, MovingADirectoryIntoItselfOrItsSubdirectoryFailsWithEinval) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());
  const ino_t sub = NewDirectory(dir, "sub", 0755, Alice());

  EXPECT_EQ(StatusToErrno(ns_.Rename(kRoot, "dir", sub, "dir", 0, Alice())), EINVAL);
  EXPECT_EQ(StatusToErrno(ns_.Rename(kRoot, "dir", dir, "dir", 0, Alice())), EINVAL);

  EXPECT_EQ(InodeOf(kRoot, "dir"), dir);
  EXPECT_EQ(InodeOf(dir, "sub"), sub);
}

TEST_F(NamespaceTest, RenameOfADirectoryOverANonEmptyDirectoryFailsWithEnotempty) {
  const ino_t a = NewDirectory(kRoot, "a", 0755, Alice());
  const ino_t b = NewDirectory(kRoot, "b", 0755, Alice());
  NewNetwork(b, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.Rename(kRoot, "a", kRoot, "b", 0, Alice())), ENOTEMPTY);

  EXPECT_EQ(InodeOf(kRoot, "a"), a);
  EXPECT_EQ(InodeOf(kRoot, "b"), b);
}

TEST_F(NamespaceTest, RenameOfADirectoryOverAnEmptyDirectoryReplacesIt) {
  const ino_t a = NewDirectory(kRoot, "a", 0755, Alice());
  NewDirectory(kRoot, "b", 0755, Alice());
  ASSERT_EQ(Attr(kRoot).nlink, 4u);

  ASSERT_TRUE(ns_.Rename(kRoot, "a", kRoot, "b", 0, Alice()).ok());

  EXPECT_EQ(InodeOf(kRoot, "b"), a);
  EXPECT_EQ(LookupErrno(kRoot, "a"), ENOENT);
  EXPECT_EQ(Attr(kRoot).nlink, 3u);
}

TEST_F(NamespaceTest, RenamingAnEntryOntoItselfChangesNothing) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());

  EXPECT_TRUE(ns_.Rename(kRoot, "lan", kRoot, "lan", 0, Alice()).ok());
  EXPECT_TRUE(ns_.Rename(kRoot, "dir", kRoot, "dir", 0, Alice()).ok());

  EXPECT_EQ(InodeOf(kRoot, "lan"), lan);
  EXPECT_EQ(InodeOf(kRoot, "dir"), dir);
  EXPECT_EQ(Attr(lan).nlink, 1u);
  EXPECT_EQ(Attr(dir).nlink, 2u);
  EXPECT_EQ(Attr(kRoot).nlink, 3u);
}

// ---- ReadDirectory ----

TEST_F(NamespaceTest, ReadDirectoryListsDotAndDotDotThenTheNamesSorted) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0755, Alice());
  const ino_t b = NewNetwork(dir, "b", 0644, Alice());
  const ino_t c = NewDirectory(dir, "c", 0755, Alice());
  const ino_t a = NewNetwork(dir, "a", 0644, Alice());

  absl::StatusOr<std::vector<DirectoryEntry>> entries = ns_.ReadDirectory(dir, Alice());

  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(Names(*entries), std::vector<std::string>({".", "..", "a", "b", "c"}));
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[0].ino, dir);
  EXPECT_EQ((*entries)[1].ino, kRoot);
  EXPECT_EQ((*entries)[2].ino, a);
  EXPECT_EQ((*entries)[3].ino, b);
  EXPECT_EQ((*entries)[4].ino, c);
  EXPECT_TRUE(S_ISREG((*entries)[2].mode));
  EXPECT_TRUE(S_ISDIR((*entries)[4].mode));
}

TEST_F(NamespaceTest, ReadDirectoryNeedsReadPermission) {
  const ino_t dir = NewDirectory(kRoot, "dir", 0733, Root());

  EXPECT_EQ(StatusToErrno(ns_.ReadDirectory(dir, Alice()).status()), EACCES);
  EXPECT_TRUE(ns_.ReadDirectory(dir, Root()).ok());
}

// ---- SetAttributes ----

TEST_F(NamespaceTest, OnlyTheOwnerOrRootMayChangeTheMode) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, Chmod(0666), Bob()).status()), EPERM);
  EXPECT_EQ(Attr(lan).mode, static_cast<mode_t>(S_IFREG | 0644));

  absl::StatusOr<Attributes> by_owner = ns_.SetAttributes(lan, Chmod(0600), Alice());
  ASSERT_TRUE(by_owner.ok()) << by_owner.status();
  EXPECT_EQ(by_owner->mode, static_cast<mode_t>(S_IFREG | 0600));
  ASSERT_TRUE(ns_.SetAttributes(lan, Chmod(0660), Root()).ok());
  EXPECT_EQ(Attr(lan).mode, static_cast<mode_t>(S_IFREG | 0660));
}

TEST_F(NamespaceTest, OnlyRootMayChangeTheOwner) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, Chown(kBob), Alice()).status()), EPERM);
  EXPECT_EQ(Attr(lan).uid, kAlice);

  ASSERT_TRUE(ns_.SetAttributes(lan, Chown(kBob), Root()).ok());
  EXPECT_EQ(Attr(lan).uid, kBob);
}

TEST_F(NamespaceTest, OwnerMayChangeTheGroupToOneOfItsOwnGroupsOnly) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, Chgrp(kOutsiders), Alice()).status()), EPERM);
  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, Chgrp(kBobGroup), Bob()).status()), EPERM);
  EXPECT_EQ(Attr(lan).gid, kAliceGroup);

  ASSERT_TRUE(ns_.SetAttributes(lan, Chgrp(kStaff), Alice()).ok());
  EXPECT_EQ(Attr(lan).gid, kStaff);
}

TEST_F(NamespaceTest, TruncatingANetworkToZeroIsAcceptedAndToMoreIsEinval) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  absl::StatusOr<Attributes> emptied = ns_.SetAttributes(lan, Truncate(0), Alice());
  ASSERT_TRUE(emptied.ok()) << emptied.status();
  EXPECT_EQ(emptied->size, 0);
  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, Truncate(10), Alice()).status()), EINVAL);
  EXPECT_EQ(Attr(lan).size, 0);
}

TEST_F(NamespaceTest, TouchByANonOwnerWithWritePermissionSetsTheTimesToNow) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0666, Alice());

  absl::StatusOr<Attributes> touched = ns_.SetAttributes(lan, Touch(), Bob(kLater));

  ASSERT_TRUE(touched.ok()) << touched.status();
  EXPECT_EQ(Attr(lan).atime, kLater);
  EXPECT_EQ(Attr(lan).mtime, kLater);
}

TEST_F(NamespaceTest, TouchByANonOwnerWithoutWritePermissionIsRefused) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0644, Alice());

  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, Touch(), Bob(kLater)).status()), EACCES);
  EXPECT_EQ(Attr(lan).mtime, kStart);
}

TEST_F(NamespaceTest, ExplicitTimesNeedOwnershipEvenWithWritePermission) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0666, Alice());
  const absl::Time explicit_time = kStart + absl::Hours(1);

  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, SetMtime(explicit_time), Bob(kLater)).status()),
            EPERM);
  EXPECT_EQ(Attr(lan).mtime, kStart);

  ASSERT_TRUE(ns_.SetAttributes(lan, SetMtime(explicit_time), Alice(kLater)).ok());
  EXPECT_EQ(Attr(lan).mtime, explicit_time);
}

TEST_F(NamespaceTest, RefusedSetAttributesChangesNothing) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0666, Alice());
  const Attributes before = Attr(lan);

  // Alice may chmod but not grow the file: neither happens.
  AttributeChanges chmod_and_grow = Chmod(0600);
  chmod_and_grow.size = 5;
  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, chmod_and_grow, Alice(kLater)).status()), EINVAL);
  // Bob may touch (0666) but not chmod: neither happens.
  AttributeChanges chmod_and_touch = Touch();
  chmod_and_touch.mode = 0600;
  EXPECT_EQ(StatusToErrno(ns_.SetAttributes(lan, chmod_and_touch, Bob(kLater)).status()), EPERM);

  const Attributes after = Attr(lan);
  EXPECT_EQ(after.mode, before.mode);
  EXPECT_EQ(after.size, before.size);
  EXPECT_EQ(after.atime, before.atime);
  EXPECT_EQ(after.mtime, before.mtime);
  EXPECT_EQ(after.ctime, before.ctime);
}

// ---- OpenNetwork ----

TEST_F(NamespaceTest, OpeningToReceiveNeedsReadPermission) {
  const ino_t readable = NewNetwork(kRoot, "readable", 0604, Alice());
  const ino_t unreadable = NewNetwork(kRoot, "unreadable", 0602, Alice());

  EXPECT_TRUE(ns_.OpenNetwork(readable, kMayRead, Bob()).ok());
  EXPECT_EQ(StatusToErrno(ns_.OpenNetwork(unreadable, kMayRead, Bob()).status()), EACCES);
}

TEST_F(NamespaceTest, OpeningToSendNeedsWritePermission) {
  const ino_t writable = NewNetwork(kRoot, "writable", 0602, Alice());
  const ino_t unwritable = NewNetwork(kRoot, "unwritable", 0604, Alice());

  EXPECT_TRUE(ns_.OpenNetwork(writable, kMayWrite, Bob()).ok());
  EXPECT_EQ(StatusToErrno(ns_.OpenNetwork(unwritable, kMayWrite, Bob()).status()), EACCES);
  EXPECT_EQ(StatusToErrno(ns_.OpenNetwork(unwritable, kMayRead | kMayWrite, Bob()).status()),
            EACCES);
}

TEST_F(NamespaceTest, RootOpensANetworkWhateverItsMode) {
  const ino_t closed = NewNetwork(kRoot, "closed", 0000, Alice());

  EXPECT_TRUE(ns_.OpenNetwork(closed, kMayRead | kMayWrite, Root()).ok());
}

TEST_F(NamespaceTest, OpeningTheSameNetworkTwiceGivesTheSameNetwork) {
  const ino_t lan = NewNetwork(kRoot, "lan", 0666, Alice());

  absl::StatusOr<std::shared_ptr<Network>> first = ns_.OpenNetwork(lan, kMayRead, Alice());
  absl::StatusOr<std::shared_ptr<Network>> second = ns_.OpenNetwork(lan, kMayWrite, Bob());

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get());
}

// ---- Setgid directories ----

TEST_F(NamespaceTest, EntriesInASetgidDirectoryInheritItsGroup) {
  const ino_t shared = NewDirectory(kRoot, "shared", 02777, Root());
  ASSERT_TRUE(ns_.SetAttributes(shared, Chgrp(kStaff), Root()).ok());

  absl::StatusOr<Attributes> lan = ns_.MakeNetwork(shared, "lan", 0644, Bob());

  ASSERT_TRUE(lan.ok()) << lan.status();
  EXPECT_EQ(lan->gid, kStaff);
  EXPECT_EQ(lan->uid, kBob);
}

TEST_F(NamespaceTest, SubdirectoriesOfASetgidDirectoryInheritTheSetgidBit) {
  const ino_t shared = NewDirectory(kRoot, "shared", 02777, Root());
  ASSERT_TRUE(ns_.SetAttributes(shared, Chgrp(kStaff), Root()).ok());

  absl::StatusOr<Attributes> sub = ns_.MakeDirectory(shared, "sub", 0755, Bob());

  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->gid, kStaff);
  EXPECT_EQ(sub->mode, static_cast<mode_t>(S_IFDIR | S_ISGID | 0755));
}

TEST_F(NamespaceTest, EntriesInAnOrdinaryDirectoryTakeTheCallersGroup) {
  const ino_t plain = NewDirectory(kRoot, "plain", 0777, Root());
  ASSERT_TRUE(ns_.SetAttributes(plain, Chgrp(kStaff), Root()).ok());

  absl::StatusOr<Attributes> sub = ns_.MakeDirectory(plain, "sub", 0755, Bob());

  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->gid, kBobGroup);
  EXPECT_EQ(sub->mode, static_cast<mode_t>(S_IFDIR | 0755));
}

}  // namespace
}  // namespace ipnfs
