/** `task/*` handlers: thin wrappers over TaskService. */
import type { Connection } from 'vscode-languageserver/node';
import { taskCancel, taskGet, taskList, taskRun, taskTranscript } from '../../../protocol/task';
import type { Logger } from '../ports/logger';
import type { TaskService } from '../services/taskService';
import { onRequest } from './register';

export function registerTaskHandlers(connection: Connection, tasks: TaskService, logger: Logger): void {
  onRequest(connection, taskRun, logger, async (p) => {
    const { taskId, sessionId } = await tasks.run(p);
    return { taskId, sessionId };
  });
  onRequest(connection, taskGet, logger, (p) => tasks.get(p.taskId));
  onRequest(connection, taskList, logger, (p) => tasks.list(p.limit));
  onRequest(connection, taskCancel, logger, (p) => tasks.cancel(p.taskId));
  onRequest(connection, taskTranscript, logger, async (p) => ({ events: await tasks.transcript(p.taskId, p.afterSeq) }));
}
