// The image service's task delete (seed 004): Bearer token, `task_uid` as a
// multipart, urlencoded or JSON field, and answers in the document's words.
// Its client code (PHP, Python, JavaScript, curl) runs against this door
// unchanged but for the URL and the token (test/rest-image-clients.test.ts).
import { apiKeyFrom } from '../http/api-key.js';
import type { PaymentRequiredError } from '../services/errors.js';
import { deleteTask } from '../services/tasks/delete.js';
import { RestInputError, readFields } from './body.js';
import { type Door, json, retryAfter, statusOf } from './door.js';

const NOT_FOUND = 'Задача не найдена';
const IN_PROGRESS = 'Задачу со статусом "В процессе" удалить нельзя';
const NO_TASK_UID = 'Не указан параметр task_uid';
const BAD_TASK_UID = 'Параметр task_uid должен быть строкой';

/** Messages per HTTP status, in the document's language. */
const MESSAGES: Record<number, string> = {
  400: 'Некорректный запрос: передайте task_uid в JSON, форме или multipart',
  401: 'Неверный токен авторизации',
  402: 'Доступ запрещён: неоплаченный счёт',
  405: 'Метод не поддерживается',
  413: 'Слишком большой запрос',
  423: 'Недостаточно квоты',
  429: 'Слишком много запросов',
  500: 'Внутренняя ошибка сервера',
};
const PLAN_REQUIRED = 'Отложенные задачи доступны только на тарифе Scale';

const errors = (...messages: string[]) => ({ type: 'error', errors: messages });

export const imageTasks: Door = {
  name: 'image-tasks',
  routes: [
    {
      method: 'POST',
      path: '/api/v1/task/delete',
      async handle(call) {
        const fields = await readFields(call.request);
        const uid = fields.get('task_uid');
        if (uid === undefined || uid === '') throw new RestInputError(400, NO_TASK_UID);
        if (typeof uid !== 'string') throw new RestInputError(400, BAD_TASK_UID);
        const session = call.session(apiKeyFrom(call.request));
        try {
          await deleteTask(session, uid);
        } catch (e) {
          // The document's answers: 200 with the reason, for these two.
          const code = (e as { code?: string }).code;
          if (code === 'NOT_FOUND') return json(200, errors(NOT_FOUND));
          if (code === 'INVALID_STATUS') return json(200, errors(IN_PROGRESS));
          throw e;
        }
        return json(200, { type: 'success' });
      },
    },
  ],
  failure(failure, { retryAfterSeconds }) {
    const status = statusOf(failure);
    let message = MESSAGES[status] ?? MESSAGES[500]!;
    // The door's own words for task_uid; other refusals (a body that does not parse) in general terms.
    if (failure && (failure.message === NO_TASK_UID || failure.message === BAD_TASK_UID)) message = failure.message;
    else if (failure && 'code' in failure && failure.code === 'VALIDATION') message = 'Некорректный параметр task_uid';
    if (failure && 'code' in failure && failure.code === 'PAYMENT_REQUIRED') {
      if ((failure as PaymentRequiredError).reason === 'PLAN_UPGRADE_REQUIRED') message = PLAN_REQUIRED;
    }
    if (status === 429 && retryAfterSeconds > 0) message = `${message}, повторите через ${retryAfterSeconds} с`;
    return json(status, errors(message), retryAfter(status, retryAfterSeconds));
  },
};
