<?php // Verbatim from the image service's document (seed 004), PHP client of POST /api/v1/task/delete; only this <?php line added.
//Ссылка
$api_url = 'https://pixflow.ru/api/v1/task/delete';

//Токен авторизации из личного кабинета: https://pixflow.ru/user/api
$api_token = "jgcJkV7fSV2KzHyzmdIV4pS5VHshgbsOsRg26wQRd5AxRGIpJF";

//Заголовки
$headers = [
    'Authorization: Bearer '.$api_token
];

//Параметры запроса
$data = [
    'task_uid' => 'gsvyz98boa',
];

$curl = curl_init();
curl_setopt($curl, CURLOPT_URL, $api_url);
curl_setopt($curl, CURLOPT_HTTPHEADER, $headers);
curl_setopt($curl, CURLOPT_POST, true);
curl_setopt($curl, CURLOPT_POSTFIELDS, $data);
curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);

$response   = curl_exec($curl);
$http_code  = curl_getinfo($curl, CURLINFO_HTTP_CODE);

curl_close($curl);

if($http_code !== 200)
    exit('['.$http_code.'] Ошибка запроса');

if(!$json = json_decode($response))
    exit('Ошибка декодирования данных');

if($json->type == 'error'){

    foreach($json->errors as $error)
        echo $error.PHP_EOL;

    exit;

}

echo 'Задача успешно удалена'.PHP_EOL;
