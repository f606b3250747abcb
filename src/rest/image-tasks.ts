// The image service's task delete (seed 004): Bearer token, `task_uid` as a
// multipart, urlencoded or JSON field, and answers in the document's words.
// Its client code (PHP, Python, JavaScript, curl) runs against this door
// unchanged but for the URL and the token (test/rest-image-clients.test.ts).
import { apiKeyFrom } from '../http/api-key.js';
import { InvalidStatusError, NotFoundError, PaymentRequiredError, ValidationError } from '../services/errors.js';
import { deleteTask } from '../services/tasks/delete.js';
import { RestInputError, readFields, SMALL_BODY_BYTES } from './body.js';
import { type Door, json, type RestStatus, retryAfter, statusOf } from './door.js';

const NOT_FOUND = 'Задача не найдена';
const IN_PROGRESS = 'Задачу со статусом "В процессе" удалить нельзя';
const NO_TASK_UID = 'Не указан параметр task_uid';
const BAD_TASK_UID = 'Параметр task_uid должен быть строкой';

/** Messages per HTTP status, in the document's language. */
const MESSAGES: Record<RestStatus, string> = {
  400: 'Некорректный запрос: передайте task_uid в JSON, форме или multipart',
  401: 'Неверный токен авторизации',
  402: 'Доступ запрещён: неоплаченный счёт',
  404: 'Метод API не найден',
  405: 'Метод не поддерживается',
  413: 'Слишком большой запрос',
  // No call of this door meets 409 (a task in progress is its 200 answer) or 503.
  409: 'Конфликт состояния задачи',
  423: 'Недостаточно квоты',
  429: 'Слишком много запросов',
  500: 'Внутренняя ошибка сервера',
  503: 'Сервис временно недоступен',
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
        // The key before the body: a caller without one costs no parsing.
        const session = call.session(apiKeyFrom(call.request));
        await session.caller();
        const fields = await readFields(call.request, SMALL_BODY_BYTES);
        const uid = fields.get('task_uid');
        if (uid === undefined || uid === '') throw new RestInputError(400, NO_TASK_UID, 'WORDED');
        if (typeof uid !== 'string') throw new RestInputError(400, BAD_TASK_UID, 'WORDED');
        try {
          await deleteTask(session, uid);
        } catch (e) {
          // The document's answers: 200 with the reason, for these two.
          if (e instanceof NotFoundError) return json(200, errors(NOT_FOUND));
          if (e instanceof InvalidStatusError) return json(200, errors(IN_PROGRESS));
          throw e;
        }
        return json(200, { type: 'success' });
      },
    },
  ],
  failure(failure, { retryAfterSeconds }) {
    const status = statusOf(failure);
    let message = MESSAGES[status];
    // The door's own words for task_uid; other refusals (a body that does not parse) in general terms.
    if (failure instanceof RestInputError && failure.reason === 'WORDED') message = failure.message;
    else if (failure instanceof ValidationError) message = 'Некорректный параметр task_uid';
    else if (failure instanceof PaymentRequiredError && failure.reason === 'PLAN_UPGRADE_REQUIRED') {
      message = PLAN_REQUIRED;
    }
    if (status === 429 && retryAfterSeconds > 0) message = `${message}, повторите через ${retryAfterSeconds} с`;
    return json(status, errors(message), retryAfter(status, retryAfterSeconds));
  },
};
