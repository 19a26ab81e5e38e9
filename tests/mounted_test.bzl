"""mounted_cc_test: an integration suite that mounts the daemon, run on both FUSE transports.

Every behaviour must hold whether the daemon serves FUSE through /dev/fuse or over io_uring, so
each suite becomes two cc_tests: NAME with --fuse_uring=off and NAME_uring with --fuse_uring=on
(which turns the fuse module's enable_uring parameter on, and leaves it on). The harness
(//tests:mounted_daemon) puts $IPNFS_TEST_DAEMON_FLAGS on every daemon's command line. The tests
need root, /dev/fuse and fusermount3, so they run outside the sandbox ("local").
"""

# The harness every mounted suite builds on; mounted_cc_test adds what deps does not list.
_HARNESS = [
    "//tests:background_process",
    "//tests:mounted_daemon",
    "//tests:port_io",
    "//tests:run_as",
    "//tests:subprocess",
    "//tests:temp_dir",
    "//tests:wait_until",
    "//third_party:absl",
    "//third_party:gtest_main",
]

_TRANSPORTS = [
    ("", "--fuse_uring=off"),
    ("_uring", "--fuse_uring=on"),
]

def mounted_cc_test(name, srcs, deps, daemon_flags = [], size = "medium", **kwargs):
    """Declares NAME and NAME_uring.

    Args:
      name: the name of the /dev/fuse variant; the io_uring one adds "_uring".
      srcs: the test's sources.
      deps: its own dependencies; the harness's libraries are added.
      daemon_flags: more flags for every daemon of the suite, after the transport's.
      size: the tests' size.
      **kwargs: passed to both cc_tests.
    """
    for suffix, transport in _TRANSPORTS:
        native.cc_test(
            name = name + suffix,
            size = size,
            srcs = srcs,
            env = {"IPNFS_TEST_DAEMON_FLAGS": " ".join([transport] + daemon_flags)},
            tags = ["local"],
            deps = deps + [d for d in _HARNESS if d not in deps],
            **kwargs
        )
