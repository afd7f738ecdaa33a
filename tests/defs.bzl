"""weft_test: a GoogleTest binary with the runtime, the fixture, eventually() and gtest_main."""

def weft_test(name, srcs, deps = [], size = "medium", **kw):
    native.cc_test(
        name = name,
        srcs = srcs,
        size = size,
        deps = deps + [
            "//runtime",
            "//runtime/core",
            "//tests/support:eventually",
            "//tests/support:runtime_fixture",
            "//third_party:gtest_main",
        ],
        **kw
    )
