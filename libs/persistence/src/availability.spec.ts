import { isDatabaseUnavailable } from './availability';

describe('isDatabaseUnavailable', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5433' }],
    [new Error('Driver not Connected')],
    [new Error('timeout exceeded when trying to connect')],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }],
    [{ code: '08006', message: 'connection failure' }],
    [{ message: 'query failed', driverError: { code: 'ECONNRESET' } }],
  ])('recognises %p', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    [new Error('duplicate key value violates unique constraint')],
    [{ code: '23505' }],
    [{ code: '22P02', message: 'invalid input syntax for type uuid' }],
    [null],
    ['ECONNREFUSED'],
  ])('leaves %p alone', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
