#pragma once

namespace digit_sum {

unsigned long long sum(unsigned long long n);

}  // namespace digit_sum
