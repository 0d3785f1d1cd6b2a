#include "digit_sum.h"
#include "test/catch.hpp"

TEST_CASE("one digit") {
    REQUIRE(digit_sum::sum(1) == 1);
}

#if defined(EXERCISM_RUN_ALL_TESTS)
TEST_CASE("several digits") {
    REQUIRE(digit_sum::sum(4096) == 19);
}

TEST_CASE("zero") {
    REQUIRE(digit_sum::sum(0) == 0);
}
#endif
