#include "digit_sum.h"

namespace digit_sum {

unsigned long long sum(unsigned long long n) {
    unsigned long long total = 0;
    for (; n > 0; n /= 10) total += n % 10;
    return total;
}

}  // namespace digit_sum
