// Verbatim from the image service's document (seed 004), JavaScript (axios) client of POST /api/v1/task/delete.
const axios = require("axios");

//Ссылка
const api_url = "https://pixflow.ru/api/v1/task/delete";

//Токен авторизации из личного кабинета: https://pixflow.ru/user/api
const api_token = "jgcJkV7fSV2KzHyzmdIV4pS5VHshgbsOsRg26wQRd5AxRGIpJF";

(async() => {

	try{

		//Параметры запроса
		const data = {
			task_uid: "gsvyz98boa",
		};
		
		const response = await axios.post(api_url, data, {
			headers: {
				Authorization: `Bearer ${api_token}`,
			},
		});

		if(response.data.type === "error") {
			console.error("Ошибка:");
        	response.data.errors.forEach(err => console.error(" -", err));
			return;
		}

		console.log("Задача успешно удалена");

	} catch(err){

		if(err.response){
			console.error("[" + err.response.status + "] Ошибка запроса");
		} else {
			console.error("Ошибка: ", err.message);
		}

	}

})();
