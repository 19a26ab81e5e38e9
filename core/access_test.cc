#include "core/access.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace ipnfs {
namespace {

constexpr uid_t kOwner = 1000;
constexpr gid_t kGroup = 100;

Credentials User(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
  return Credentials{.uid = uid, .gid = gid, .groups = std::move(groups)};
}

TEST(MayAccess, OwnerUsesTheOwnerClassOnlyEvenWhenOthersHaveMore) {
  const mode_t mode = S_IFREG | 0047;  // ---r--rwx
  EXPECT_FALSE(MayAccess(mode, kOwner, kGroup, User(kOwner, kGroup), kMayRead));
  EXPECT_TRUE(MayAccess(mode, kOwner, kGroup, User(2000, kGroup), kMayRead));
  EXPECT_FALSE(MayAccess(mode, kOwner, kGroup, User(2000, kGroup), kMayWrite));
  EXPECT_TRUE(MayAccess(mode, kOwner, kGroup, User(2000, 2000), kMayRead | kMayWrite));
}

TEST(MayAccess, SupplementaryGroupsSelectTheGroupClass) {
  const mode_t mode = S_IFREG | 0620;
  EXPECT_TRUE(MayAccess(mode, kOwner, kGroup, User(2000, 2000, {7, kGroup}), kMayWrite));
  EXPECT_FALSE(MayAccess(mode, kOwner, kGroup, User(2000, 2000, {7}), kMayWrite));
}

TEST(MayAccess, EveryRequestedBitMustBeGranted) {
  const mode_t mode = S_IFREG | 0400;
  EXPECT_TRUE(MayAccess(mode, kOwner, kGroup, User(kOwner, kGroup), kMayRead));
  EXPECT_FALSE(MayAccess(mode, kOwner, kGroup, User(kOwner, kGroup), kMayRead | kMayWrite));
}

TEST(MayAccess, RootReadsAndWritesAnythingButExecutesOnlyWhatSomeoneMay) {
  const Credentials root = User(0, 0);
  EXPECT_TRUE(MayAccess(S_IFREG | 0000, kOwner, kGroup, root, kMayRead | kMayWrite));
  EXPECT_FALSE(MayAccess(S_IFREG | 0600, kOwner, kGroup, root, kMayExecute));
  EXPECT_TRUE(MayAccess(S_IFREG | 0601, kOwner, kGroup, root, kMayExecute));
  EXPECT_TRUE(MayAccess(S_IFDIR | 0000, kOwner, kGroup, root, kMayExecute));
}

TEST(MayRemoveEntry, StickyDirectoryProtectsOtherUsersEntries) {
  const mode_t sticky = S_IFDIR | 01777;
  EXPECT_FALSE(MayRemoveEntry(sticky, 0, kOwner, User(2000, 2000)));
  EXPECT_TRUE(MayRemoveEntry(sticky, 0, kOwner, User(kOwner, kGroup)));
  EXPECT_TRUE(MayRemoveEntry(sticky, 2000, kOwner, User(2000, 2000)));
  EXPECT_TRUE(MayRemoveEntry(sticky, 0, kOwner, User(0, 0)));
  EXPECT_TRUE(MayRemoveEntry(S_IFDIR | 0777, 0, kOwner, User(2000, 2000)));
}

}  // namespace
}  // namespace ipnfs
