import { affectedRows, Queryable, queryRow, queryRows } from './sql';

const answering = (result: unknown): Queryable => ({ query: jest.fn(async () => result) });

describe('query helpers', () => {
  it('read the rows of a SELECT or INSERT … RETURNING (a plain row array)', async () => {
    const db = answering([{ id: 'a' }, { id: 'b' }]);
    expect(await queryRows(db, 'SELECT id FROM t')).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(await queryRow(db, 'SELECT id FROM t')).toEqual({ id: 'a' });
    expect(await affectedRows(db, 'SELECT id FROM t')).toBe(2);
  });

  it('unwrap the [rows, count] answer of UPDATE/DELETE', async () => {
    const db = answering([[{ id: 'x' }], 3]);
    expect(await queryRows(db, 'UPDATE t SET a = 1 RETURNING id')).toEqual([{ id: 'x' }]);
    expect(await queryRow(db, 'UPDATE t SET a = 1 RETURNING id')).toEqual({ id: 'x' });
    expect(await affectedRows(db, 'UPDATE t SET a = 1')).toBe(3);
  });

  it('answer null / 0 when nothing matched, and pass the parameters through', async () => {
    const db = answering([[], 0]);
    expect(await queryRow(db, 'DELETE FROM t WHERE id = $1 RETURNING id', ['z'])).toBeNull();
    expect(await affectedRows(db, 'DELETE FROM t WHERE id = $1', ['z'])).toBe(0);
    expect(db.query).toHaveBeenLastCalledWith('DELETE FROM t WHERE id = $1', ['z']);
  });
});
