import { digitSum } from './digit-sum';

describe('digitSum', () => {
  test('zero', () => {
    expect(digitSum(0)).toEqual(0);
  });

  xtest('several digits', () => {
    expect(digitSum(4096)).toEqual(19);
  });

  xtest('all nines', () => {
    expect(digitSum(999999)).toEqual(54);
  });
});
