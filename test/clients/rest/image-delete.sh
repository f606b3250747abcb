# Verbatim from the image service's document (seed 004), curl client of POST /api/v1/task/delete.
#Удаление задачи
curl -k -X POST 'https://pixflow.ru/api/v1/task/delete' \
-H 'Authorization: Bearer jgcJkV7fSV2KzHyzmdIV4pS5VHshgbsOsRg26wQRd5AxRGIpJF' \
-F 'task_uid=xvsqm734ix'
