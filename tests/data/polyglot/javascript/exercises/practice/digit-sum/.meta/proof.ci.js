export const digitSum = (n) =>
  String(n)
    .split('')
    .reduce((sum, digit) => sum + Number(digit), 0);
