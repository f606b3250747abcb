# Verbatim from the image service's document (seed 004), Python client of POST /api/v1/task/delete.
import requests
import json
import sys

# Ссылка
api_url = 'https://pixflow.ru/api/v1/task/delete';

# Токен авторизации из личного кабинета: https://pixflow.ru/user/api
api_token = "jgcJkV7fSV2KzHyzmdIV4pS5VHshgbsOsRg26wQRd5AxRGIpJF"

# Заголовки запроса
headers = {
    "Authorization": f"Bearer {api_token}",
}

# Параметры запроса
data = {
    "task_uid": "gsvyz98boa",
}

# Отправляем запрос
try:
    response = requests.post(api_url, headers=headers, data=data)
    http_code = response.status_code
    resp_text = response.text
except Exception as e:
    print("Ошибка при выполнении запроса: ", e)
    sys.exit()

if http_code != 200:
    print(f"[{http_code}] Ошибка запроса")
    sys.exit()

try:
    json_resp = response.json()
except json.JSONDecodeError:
    print("Ошибка декодирования ответа")
    sys.exit()

if json_resp.get("type") == "error":
    for err in json_resp.get("errors", []):
        print(err)
    sys.exit()

print("Задача успешно удалена")
