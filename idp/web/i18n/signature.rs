//! Catalogue entries of the «ЭП» (Rutoken) tabs of the sign-in and registration pages
//! (manual §1.5.2, §2.2; R6, R10, A2): the form's labels, and the messages `/static/esig.js`
//! shows, which reach it as `data-msg-*` attributes because the page may not run inline
//! script. `{n}` and `{code}` are filled in by the script.
//! Each entry is (key, Russian, Kyrgyz, English).

pub(super) const ENTRIES: &[super::Entry] = &[
    (
        "rutoken.intro",
        "Подключите рутокен, выберите устройство и сертификат и введите ПИН-код токена.",
        "Рутокенди туташтырып, түзмөктү жана сертификатты тандап, токендин ПИН-кодун териңиз.",
        "Plug in your Rutoken, choose the device and the certificate and type the token's PIN.",
    ),
    (
        "rutoken.register.intro",
        "Регистрация через ЭП не требует визита в налоговую: пользователь регистрируется автоматически по данным сертификата. Все поля обязательны.",
        "ЭКТ аркылуу каттоо салык органына барууну талап кылбайт: колдонуучу сертификаттын маалыматтары боюнча автоматтык түрдө катталат. Бардык талаалар милдеттүү.",
        "Registration by electronic signature needs no visit to the tax office: you are registered automatically from the certificate's data. All fields are mandatory.",
    ),
    ("rutoken.device", "Выберите рутокен", "Рутокенди тандаңыз", "Choose a Rutoken"),
    (
        "rutoken.certificate",
        "Выберите сертификат",
        "Сертификатты тандаңыз",
        "Choose a certificate",
    ),
    // «Пароль» as in the manual (it is the token's PIN; the hint under the field says so).
    ("rutoken.pin", "Пароль", "Сырсөз", "Password (PIN)"),
    (
        "rutoken.pin.hint",
        "ПИН-код пользователя рутокена",
        "Рутокен колдонуучусунун ПИН-коду",
        "The Rutoken user PIN",
    ),
    ("rutoken.refresh", "Обновить список", "Тизмени жаңылоо", "Refresh the list"),
    (
        "rutoken.loading",
        "Поиск рутокенов…",
        "Рутокендер изделүүдө…",
        "Looking for tokens…",
    ),
    (
        "rutoken.working",
        "Подпись и проверка…",
        "Кол коюу жана текшерүү…",
        "Signing and checking…",
    ),
    (
        "rutoken.no_plugin",
        "Для работы токена необходимо установить Рутокен Плагин. Плагин можно установить с сайта rutoken.ru.",
        "Токен иштеши үчүн Рутокен Плагинди орнотуу керек. Плагинди rutoken.ru сайтынан орнотсо болот.",
        "The token needs the Rutoken Plugin. You can install the plugin from rutoken.ru.",
    ),
    (
        "rutoken.no_plugin.link",
        "Скачать Рутокен Плагин на rutoken.ru",
        "Рутокен Плагинди rutoken.ru сайтынан жүктөп алуу",
        "Download the Rutoken Plugin from rutoken.ru",
    ),
    (
        "rutoken.noscript",
        "Для работы с ЭП включите JavaScript: страница обращается к токену через Рутокен Плагин.",
        "ЭКТ менен иштөө үчүн JavaScriptти күйгүзүңүз: барак токенге Рутокен Плагин аркылуу кайрылат.",
        "Electronic signature needs JavaScript: the page reaches the token through the Rutoken Plugin.",
    ),
    (
        "rutoken.no_device",
        "Рутокен не найден. Подключите токен и нажмите «Обновить список».",
        "Рутокен табылган жок. Токенди туташтырып, «Тизмени жаңылоо» баскычын басыңыз.",
        "No Rutoken found. Plug in the token and press “Refresh the list”.",
    ),
    (
        "rutoken.no_certificate",
        "На выбранном рутокене нет сертификатов пользователя.",
        "Тандалган рутокенде колдонуучунун сертификаттары жок.",
        "The chosen Rutoken holds no user certificate.",
    ),
    (
        "rutoken.pin_empty",
        "Введите ПИН-код токена.",
        "Токендин ПИН-кодун териңиз.",
        "Type the token's PIN.",
    ),
    (
        "rutoken.pin_incorrect",
        "Неверный ПИН-код. Осталось попыток: {n}.",
        "ПИН-код туура эмес. Калган аракеттер: {n}.",
        "Wrong PIN. Attempts left: {n}.",
    ),
    (
        "rutoken.pin_incorrect_plain",
        "Неверный ПИН-код.",
        "ПИН-код туура эмес.",
        "Wrong PIN.",
    ),
    (
        "rutoken.pin_locked",
        "ПИН-код заблокирован: исчерпано число попыток ввода. Для разблокировки обратитесь в удостоверяющий центр, выдавший токен.",
        "ПИН-код бөгөттөлдү: терүү аракеттеринин саны түгөндү. Бөгөттөн чыгаруу үчүн токенди берген күбөлөндүрүүчү борборго кайрылыңыз.",
        "The PIN is locked: no attempts are left. To unlock it, contact the certification authority that issued the token.",
    ),
    (
        "rutoken.plugin_error",
        "Ошибка Рутокен Плагина (код {code}). Переподключите токен и попробуйте ещё раз.",
        "Рутокен Плагиндин катасы (код {code}). Токенди кайра туташтырып, дагы аракет кылыңыз.",
        "Rutoken Plugin error (code {code}). Plug the token in again and retry.",
    ),
    (
        "rutoken.network",
        "Нет связи с сервером. Проверьте подключение и попробуйте ещё раз.",
        "Сервер менен байланыш жок. Туташууну текшерип, дагы аракет кылыңыз.",
        "The server cannot be reached. Check your connection and retry.",
    ),
    (
        "rutoken.valid_until",
        "действителен до",
        "жарактуу мөөнөтү:",
        "valid until",
    ),
    (
        "rutoken.expired",
        "срок действия истёк",
        "мөөнөтү бүткөн",
        "expired",
    ),
    (
        "rutoken.demo_notice",
        "Демонстрационный режим: вместо Рутокен Плагина работает программный демо-рутокен. Его ключи хранятся на сервере без защиты — только для демонстрации. ПИН-код: 12345678.",
        "Демонстрациялык режим: Рутокен Плагиндин ордуна программалык демо-рутокен иштейт. Анын ачкычтары серверде корголбой сакталат — демонстрация үчүн гана. ПИН-код: 12345678.",
        "Demonstration mode: a software demo token stands in for the Rutoken Plugin. Its keys are kept unprotected on the server — for demonstration only. PIN: 12345678.",
    ),
    ("rutoken.branch", "Я филиал", "Мен филиалмын", "I am a branch"),
    (
        "rutoken.head_inn",
        "ИНН организации",
        "Уюмдун ИНН",
        "Organization INN",
    ),
    (
        "rutoken.head_inn.hint",
        "ИНН головной организации, 14 цифр",
        "Башкы уюмдун ИНН, 14 сан",
        "The head organization's INN, 14 digits",
    ),
    (
        "rutoken.head_inn.invalid",
        "Укажите ИНН головной организации: 14 цифр.",
        "Башкы уюмдун ИННин көрсөтүңүз: 14 сан.",
        "Give the head organization's INN: 14 digits.",
    ),
    (
        "rutoken.register.later",
        "Регистрация через «Smart-ID KG» и «Облако» появится позже",
        "«Smart-ID KG» жана «Булут» аркылуу каттоо кийинчерээк кошулат",
        "Registration with Smart-ID KG and Cloud will be available later",
    ),
];
