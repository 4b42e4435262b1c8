import { nowIso } from '../lib/time.js';
import type { Db } from './db.js';
import type { LogLine } from './types.js';

/** Table `job_logs`: a job's lines, numbered from 1 per job. A line is cut at 8 KiB. */
export function appendLog(db: Db, jobId: number, stream: string, line: string): LogLine {
  const ts = nowIso();
  const row = db
    .sql(`INSERT INTO job_logs (job_id, seq, ts, stream, line) SELECT @job, COALESCE(MAX(seq), 0) + 1, @ts, @stream, @line FROM job_logs WHERE job_id = @job RETURNING seq`)
    .get({ job: jobId, ts, stream, line: line.slice(0, 8192) }) as { seq: number };
  return { job_id: jobId, seq: row.seq, ts, stream, line };
}

export function logsAfter(db: Db, jobId: number, afterSeq = 0, limit = 10_000): LogLine[] {
  return db.sql(`SELECT * FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`).all(jobId, afterSeq, limit) as LogLine[];
}
