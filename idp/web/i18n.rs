//! The UI string catalogue: every string a page shows goes through [`t`].
//!
//! Russian is the default language (wording follows the Taxpayer Cabinet's user manual),
//! with Kyrgyz and English. Templates receive a [`Tr`] and write `{{ tr.t("login.title") }}`;
//! a test scans `templates/` so a key used there but missing here fails the build's tests.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

/// A supported UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ru,
    Ky,
    En,
}

impl Lang {
    /// All supported languages, in the order the language switch shows them.
    pub const ALL: [Lang; 3] = [Lang::Ru, Lang::Ky, Lang::En];

    /// The BCP 47 code used in `<html lang>`, the language cookie and `ui_locales`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Ky => "ky",
            Lang::En => "en",
        }
    }

    /// Parses a language tag ("ru", "ru-RU", "ky", "ky-KG", "kg", "en", "en-US", …),
    /// case-insensitively, by its primary subtag. `kg` (the country code, often used
    /// for Kyrgyz by mistake) is accepted as Kyrgyz.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("ru") {
            Some(Lang::Ru)
        } else if primary.eq_ignore_ascii_case("ky") || primary.eq_ignore_ascii_case("kg") {
            Some(Lang::Ky)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Chooses the page language: the first supported tag of the OIDC `ui_locales`
    /// parameter (space-separated, OIDC Core §3.1.2.1), else the language cookie, else the
    /// supported tag of `Accept-Language` with the highest q-value (ties keep header
    /// order), else Russian.
    pub fn negotiate(
        ui_locales: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        if let Some(lang) = ui_locales.and_then(|v| v.split_whitespace().find_map(Lang::parse)) {
            return lang;
        }
        if let Some(lang) = cookie.and_then(Lang::parse) {
            return lang;
        }
        accept_language
            .and_then(best_accept_language)
            .unwrap_or(Lang::Ru)
    }
}

/// The supported language with the highest q-value in an `Accept-Language` header
/// (RFC 9110 §12.5.4). Entries with q=0, a malformed q, or an unsupported tag (including
/// `*`) are skipped; among equal q-values the earlier entry wins.
fn best_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let mut q = 1.0_f32;
        let mut valid = true;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                match value.trim().parse::<f32>() {
                    Ok(v) if (0.0..=1.0).contains(&v) => q = v,
                    _ => valid = false,
                }
            }
        }
        if !valid || q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// The translator handed to templates: `{{ tr.t("key") }}`, `<html lang="{{ tr.code() }}">`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The string for `key` in this language (see [`t`]).
    pub fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    /// The language code ("ru", "ky", "en").
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// The string for `key` in `lang`. A key missing from the catalogue returns the key
/// itself (and logs a warning once per key); the tests make sure templates never do that.
pub fn t(lang: Lang, key: &str) -> &'static str {
    match INDEX.get(key) {
        Some(&(ru, ky, en)) => match lang {
            Lang::Ru => ru,
            Lang::Ky => ky,
            Lang::En => en,
        },
        None => missing(key),
    }
}

/// Interns a missing key so it can be returned as `&'static str`. At most
/// `MAX_MISSING` distinct keys are ever leaked; past that a fixed marker is returned, so
/// a caller that wrongly passes request data as a key cannot grow memory without bound.
fn missing(key: &str) -> &'static str {
    const MAX_MISSING: usize = 256;
    static MISSING: LazyLock<Mutex<HashSet<&'static str>>> =
        LazyLock::new(|| Mutex::new(HashSet::new()));
    let mut set = MISSING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = set.get(key) {
        return known;
    }
    if set.len() >= MAX_MISSING {
        return "???";
    }
    tracing::warn!(key, "i18n: key missing from the catalogue");
    let leaked: &'static str = Box::leak(key.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

static INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static str, &'static str)>> =
    LazyLock::new(|| {
        CATALOGUE
            .iter()
            .map(|&(key, ru, ky, en)| (key, (ru, ky, en)))
            .collect()
    });

/// `(key, ru, ky, en)`, grouped by area. Language names (`lang.*`) are endonyms in every
/// language: a reader looks for their own language written in it.
static CATALOGUE: &[(&str, &str, &str, &str)] = &[
    // --- app ---
    ("app.name", "Salyk ID", "Salyk ID", "Salyk ID"),
    (
        "app.tagline",
        "Кабинет налогоплательщика",
        "Салык төлөөчүнүн кабинети",
        "Taxpayer Cabinet",
    ),
    (
        "app.authority",
        "Государственная налоговая служба при Министерстве финансов Кыргызской Республики",
        "Кыргыз Республикасынын Финансы министрлигине караштуу Мамлекеттик салык кызматы",
        "State Tax Service under the Ministry of Finance of the Kyrgyz Republic",
    ),
    // --- lang ---
    ("lang.label", "Язык", "Тил", "Language"),
    ("lang.ru", "Русский", "Русский", "Русский"),
    ("lang.ky", "Кыргызча", "Кыргызча", "Кыргызча"),
    ("lang.en", "English", "English", "English"),
    // --- login ---
    ("login.title", "Вход", "Кирүү", "Sign in"),
    (
        "login.for_service",
        "Вход в сервис",
        "Сервиске кирүү",
        "Sign in to the service",
    ),
    (
        "login.tab.password",
        "Логин и пароль",
        "Логин жана сырсөз",
        "Login and password",
    ),
    ("login.tab.signature", "ЭП", "ЭКТ", "E-signature"),
    (
        "login.tab.smartid",
        "Smart-ID KG",
        "Smart-ID KG",
        "Smart-ID KG",
    ),
    ("login.tab.cloud", "Облако", "Булут", "Cloud"),
    ("login.tab.esi", "ЕСИ", "ЕСИ", "ESI"),
    (
        "login.tab.later",
        "Этот способ входа появится позже",
        "Бул кирүү ыкмасы кийинчерээк кошулат",
        "This sign-in method will be available later",
    ),
    ("login.register", "Регистрация", "Каттоо", "Register"),
    ("login.login", "Логин", "Логин", "Login"),
    ("login.password", "Пароль", "Сырсөз", "Password"),
    ("login.submit", "Войти", "Кирүү", "Sign in"),
    (
        "login.error.invalid",
        "Неверный логин или пароль",
        "Логин же сырсөз туура эмес",
        "Incorrect login or password",
    ),
    (
        "login.higher_level",
        "Сервис требует входа с электронной подписью",
        "Сервис электрондук кол тамга менен кирүүнү талап кылат",
        "This service requires signing in with an electronic signature",
    ),
    // --- account choice ---
    (
        "account.title",
        "Выбор входа",
        "Кирүүнү тандоо",
        "Choose an account",
    ),
    (
        "account.intro",
        "Выберите, под какой учётной записью войти",
        "Кайсы эсептик жазуу менен кирүүнү тандаңыз",
        "Choose the account to sign in with",
    ),
    (
        "account.kind.individual",
        "Физическое лицо",
        "Жеке жак",
        "Individual",
    ),
    (
        "account.kind.organization",
        "Организация",
        "Уюм",
        "Organization",
    ),
    ("account.kind.branch", "Филиал", "Филиал", "Branch"),
    ("account.inn", "ИНН", "ИНН", "TIN"),
    ("account.role.self", "лично", "жеке өзү", "personal"),
    ("account.role.head", "руководитель", "жетекчи", "head"),
    (
        "account.role.accountant",
        "бухгалтер",
        "бухгалтер",
        "accountant",
    ),
    (
        "account.role.employee",
        "сотрудник",
        "кызматкер",
        "employee",
    ),
    (
        "account.consent",
        "Сервис получит: ФИО, ИНН и данные выбранной учётной записи",
        "Сервис төмөнкүлөрдү алат: аты-жөнүңүз, ИНН жана тандалган эсептик жазуунун маалыматтары",
        "The service will receive: your full name, TIN and the details of the chosen account",
    ),
    ("account.continue", "Продолжить", "Улантуу", "Continue"),
    ("account.cancel", "Отмена", "Жокко чыгаруу", "Cancel"),
    (
        "account.none",
        "Нет доступных учётных записей для входа в этот сервис",
        "Бул сервиске кирүү үчүн жеткиликтүү эсептик жазуулар жок",
        "No accounts are available for signing in to this service",
    ),
    (
        "account.required_org",
        "Этот сервис доступен только для организаций",
        "Бул сервис уюмдар үчүн гана жеткиликтүү",
        "This service is available to organizations only",
    ),
    // --- logout ---
    ("logout.title", "Выход", "Чыгуу", "Sign out"),
    (
        "logout.confirm",
        "Выйти из Salyk ID?",
        "Salyk ID тутумунан чыгасызбы?",
        "Sign out of Salyk ID?",
    ),
    ("logout.submit", "Выйти", "Чыгуу", "Sign out"),
    ("logout.cancel", "Остаться", "Калуу", "Stay signed in"),
    (
        "logout.done",
        "Вы вышли из системы",
        "Сиз тутумдан чыктыңыз",
        "You have signed out",
    ),
    // --- errors ---
    ("error.title", "Ошибка", "Ката", "Error"),
    (
        "error.generic",
        "Произошла ошибка. Повторите попытку позже.",
        "Ката кетти. Кийинчерээк кайра аракет кылыңыз.",
        "Something went wrong. Please try again later.",
    ),
    (
        "error.not_found",
        "Страница не найдена",
        "Барак табылган жок",
        "Page not found",
    ),
    (
        "error.unavailable",
        "Сервис временно недоступен. Повторите попытку через несколько секунд.",
        "Сервис убактылуу жеткиликсиз. Бир нече секунддан кийин кайра аракет кылыңыз.",
        "The service is temporarily unavailable. Please try again in a few seconds.",
    ),
    (
        "error.registry_unavailable",
        "Реестр временно недоступен. Повторите попытку позже.",
        "Реестр убактылуу жеткиликсиз. Кийинчерээк кайра аракет кылыңыз.",
        "The registry is temporarily unavailable. Please try again later.",
    ),
    // --- INN validation (accounts::inn) ---
    (
        "inn.error.empty",
        "Введите ИНН",
        "ИНН киргизиңиз",
        "Enter the INN",
    ),
    (
        "inn.error.length",
        "ИНН должен состоять из 14 цифр",
        "ИНН 14 сандан турушу керек",
        "The INN must consist of 14 digits",
    ),
    (
        "inn.error.digits",
        "ИНН должен содержать только цифры",
        "ИНН сандардан гана турушу керек",
        "The INN must contain digits only",
    ),
    (
        "inn.error.leading",
        "Недопустимая первая цифра ИНН",
        "ИННдин биринчи цифрасы туура эмес",
        "The first digit of the INN is not allowed",
    ),
    (
        "inn.error.date",
        "ИНН содержит несуществующую дату",
        "ИННде жок дата көрсөтүлгөн",
        "The INN contains a date that does not exist",
    ),
    (
        "error.invalid_request",
        "Некорректный запрос",
        "Суроо-талап туура эмес",
        "Invalid request",
    ),
    (
        "error.unknown_client",
        "Неизвестный сервис (client_id)",
        "Белгисиз сервис (client_id)",
        "Unknown service (client_id)",
    ),
    (
        "error.redirect_uri",
        "Недопустимый адрес возврата (redirect_uri)",
        "Кайтуу дареги жол берилбейт (redirect_uri)",
        "Return address not allowed (redirect_uri)",
    ),
    (
        "error.csrf",
        "Срок действия формы истёк. Обновите страницу и повторите.",
        "Форманын мөөнөтү бүттү. Баракты жаңыртып, кайра аракет кылыңыз.",
        "This form has expired. Reload the page and try again.",
    ),
    (
        "error.request_expired",
        "Срок действия запроса на вход истёк. Вернитесь в сервис и начните вход заново.",
        "Кирүү суроо-талабынын мөөнөтү бүттү. Сервиске кайтып, кирүүнү кайрадан баштаңыз.",
        "The sign-in request has expired. Go back to the service and start signing in again.",
    ),
    (
        "error.too_many",
        "Слишком много попыток. Повторите позже.",
        "Аракеттер өтө көп болду. Кийинчерээк кайталаңыз.",
        "Too many attempts. Please try again later.",
    ),
    (
        "error.back",
        "На главную",
        "Башкы бетке",
        "Back to the home page",
    ),
    (
        "error.details",
        "Подробности для разработчиков",
        "Иштеп чыгуучулар үчүн кененирээк",
        "Details for developers",
    ),
    // --- home ---
    (
        "home.title",
        "Salyk ID — единый вход налоговых сервисов",
        "Salyk ID — салык сервистерине бирдиктүү кирүү",
        "Salyk ID — single sign-on for tax services",
    ),
    (
        "home.text",
        "Через Salyk ID налогоплательщики входят в сервисы Государственной налоговой службы.",
        "Салык төлөөчүлөр Мамлекеттик салык кызматынын сервистерине Salyk ID аркылуу кирет.",
        "Taxpayers use Salyk ID to sign in to the services of the State Tax Service.",
    ),
    (
        "home.session",
        "Вы вошли как",
        "Сиз кирдиңиз:",
        "Signed in as",
    ),
    (
        "home.no_session",
        "Вы не вошли в систему",
        "Сиз тутумга кире элексиз",
        "You are not signed in",
    ),
    // --- demo relying party ---
    ("demo.title", "Демо-сервис", "Демо-сервис", "Demo service"),
    (
        "demo.intro",
        "Этот сервис показывает, что получает налоговый сервис после входа через Salyk ID.",
        "Бул сервис Salyk ID аркылуу киргенден кийин салык сервиси эмнени аларын көрсөтөт.",
        "This service shows what a tax service receives after you sign in through Salyk ID.",
    ),
    (
        "demo.sign_in",
        "Войти через Salyk ID",
        "Salyk ID аркылуу кирүү",
        "Sign in with Salyk ID",
    ),
    ("demo.id_token", "ID-токен", "ID-токен", "ID token"),
    ("demo.userinfo", "Userinfo", "Userinfo", "Userinfo"),
    (
        "demo.account",
        "Выбранная учётная запись",
        "Тандалган эсептик жазуу",
        "Selected account",
    ),
    (
        "demo.again",
        "Войти ещё раз",
        "Кайра кирүү",
        "Sign in again",
    ),
    ("demo.logout", "Выйти", "Чыгуу", "Sign out"),
    ("demo.name", "Наименование", "Аталышы", "Name"),
    (
        "demo.kind",
        "Тип учётной записи",
        "Эсептик жазуунун түрү",
        "Account type",
    ),
    // --- registration (R1–R5) ---
    ("register.title", "Регистрация", "Каттоо", "Registration"),
    (
        "register.tabs_label",
        "Способ регистрации",
        "Каттоо ыкмасы",
        "Registration method",
    ),
    (
        "register.tab.password",
        "Логин и пароль",
        "Логин жана сырсөз",
        "Login and password",
    ),
    ("register.tab.signature", "ЭП", "ЭКТ", "E-signature"),
    ("register.tab.smartid", "Smart-ID KG", "Smart-ID KG", "Smart-ID KG"),
    ("register.tab.cloud", "Облако", "Булут", "Cloud"),
    ("register.tab.add_inn", "Добавить ИНН", "ИНН кошуу", "Add INN"),
    (
        "register.tab.later",
        "Регистрация через электронную подпись («ЭП», «Smart-ID KG», «Облако») появится позже",
        "Электрондук кол тамга аркылуу каттоо («ЭКТ», «Smart-ID KG», «Булут») кийинчерээк кошулат",
        "Registration with an electronic signature (E-signature, Smart-ID KG, Cloud) will be available later",
    ),
    (
        "register.intro",
        "Заявку на регистрацию через логин и пароль рассматривает инспектор УГНС. Регистрация подтверждается при личном предъявлении паспорта. Все поля обязательны для заполнения.",
        "Логин жана сырсөз аркылуу каттоо арызын СКБнын инспектору карайт. Каттоо паспортту жеке көрсөткөндө ырасталат. Бардык талаалар милдеттүү.",
        "An inspector of the tax office reviews applications for login-and-password registration; it is confirmed when you show your passport in person. All fields are mandatory.",
    ),
    ("register.person_type", "Тип лица", "Жактын түрү", "Type of person"),
    (
        "register.person_type.person",
        "физическое лицо",
        "жеке жак",
        "individual",
    ),
    (
        "register.person_type.legal",
        "юридическое лицо",
        "юридикалык жак",
        "legal entity",
    ),
    (
        "register.person_type.hint",
        "«физическое лицо» — также индивидуальный предприниматель и КФХ; «юридическое лицо» — если вы руководитель или бухгалтер организации",
        "«жеке жак» — ошондой эле жеке ишкер жана ДФЧ; «юридикалык жак» — эгер сиз уюмдун жетекчиси же бухгалтери болсоңуз",
        "“Individual” includes individual entrepreneurs and peasant farms; choose “legal entity” if you are an organization’s head or accountant",
    ),
    ("register.ugns", "Код УГНС", "СКБ коду", "Tax office (UGNS) code"),
    (
        "register.ugns.choose",
        "— выберите налоговый орган —",
        "— салык органын тандаңыз —",
        "— choose a tax office —",
    ),
    (
        "register.org_inn",
        "ИНН юридического лица",
        "Юридикалык жактын ИННи",
        "Legal entity’s INN",
    ),
    (
        "register.org_name",
        "Наименование налогоплательщика",
        "Салык төлөөчүнүн аталышы",
        "Taxpayer’s name",
    ),
    ("register.inn", "ИНН", "ИНН", "INN"),
    ("register.full_name", "ФИО", "ФАА", "Full name"),
    (
        "register.address",
        "Место жительства(прописки)/Юридический адрес",
        "Жашаган жери (катталган жери)/Юридикалык дарек",
        "Place of residence (registration)/Legal address",
    ),
    ("register.password", "Пароль", "Сырсөз", "Password"),
    (
        "register.password.hint",
        "Не менее 8 символов",
        "Кеминде 8 белги",
        "At least 8 characters",
    ),
    (
        "register.password_confirm",
        "Подтвердите пароль",
        "Сырсөздү ырастаңыз",
        "Confirm the password",
    ),
    ("register.search", "Поиск", "Издөө", "Search"),
    (
        "register.submit",
        "Зарегистрироваться",
        "Катталуу",
        "Register",
    ),
    (
        "register.filled_hint",
        "Заполняется автоматически после нажатия «Поиск»",
        "«Издөө» баскычын баскандан кийин автоматтык түрдө толтурулат",
        "Filled in automatically when you press “Search”",
    ),
    (
        "register.error.person_type",
        "Выберите тип лица",
        "Жактын түрүн тандаңыз",
        "Choose the type of person",
    ),
    (
        "register.error.ugns_required",
        "Выберите код УГНС",
        "СКБ кодун тандаңыз",
        "Choose the tax office code",
    ),
    (
        "register.error.ugns_unknown",
        "Такого кода УГНС нет в справочнике",
        "Мындай СКБ коду маалымдамада жок",
        "There is no such tax office code",
    ),
    (
        "register.error.org_name_required",
        "Введите ИНН юридического лица и нажмите «Поиск» — наименование заполнится автоматически",
        "Юридикалык жактын ИННин киргизип, «Издөө» баскычын басыңыз — аталышы автоматтык түрдө толтурулат",
        "Enter the legal entity’s INN and press “Search” — the name is filled in automatically",
    ),
    (
        "register.error.full_name_required",
        "Введите ИНН и нажмите «Поиск» — ФИО заполнится автоматически",
        "ИННди киргизип, «Издөө» баскычын басыңыз — ФАА автоматтык түрдө толтурулат",
        "Enter the INN and press “Search” — the full name is filled in automatically",
    ),
    (
        "register.error.address_required",
        "Адрес заполняется из реестра: нажмите «Поиск»",
        "Дарек реестрден толтурулат: «Издөө» баскычын басыңыз",
        "The address comes from the registry: press “Search”",
    ),
    (
        "register.error.password_required",
        "Введите пароль",
        "Сырсөздү киргизиңиз",
        "Enter a password",
    ),
    (
        "register.error.password_short",
        "Пароль должен содержать не менее 8 символов",
        "Сырсөз кеминде 8 белгиден турушу керек",
        "The password must have at least 8 characters",
    ),
    (
        "register.error.password_long",
        "Пароль слишком длинный",
        "Сырсөз өтө узун",
        "The password is too long",
    ),
    (
        "register.error.confirm_required",
        "Подтвердите пароль",
        "Сырсөздү ырастаңыз",
        "Confirm the password",
    ),
    (
        "register.error.mismatch",
        "Пароли не совпадают",
        "Сырсөздөр дал келбейт",
        "The passwords do not match",
    ),
    (
        "register.error.not_found",
        "Не найден пользователь",
        "Колдонуучу табылган жок",
        "User not found",
    ),
    (
        "register.error.org_not_found",
        "Юридическое лицо с таким ИНН не найдено в базе налоговой службы",
        "Мындай ИНН менен юридикалык жак салык кызматынын базасында табылган жок",
        "No legal entity with this INN is registered with the tax service",
    ),
    (
        "register.error.too_many",
        "Слишком много запросов поиска. Повторите попытку через 10 минут.",
        "Издөө суроо-талаптары өтө көп. 10 мүнөттөн кийин кайра аракет кылыңыз.",
        "Too many searches. Please try again in 10 minutes.",
    ),
    (
        "register.error.network",
        "Не удалось выполнить поиск. Проверьте подключение и повторите попытку.",
        "Издөө аткарылган жок. Туташууну текшерип, кайра аракет кылыңыз.",
        "The search failed. Check your connection and try again.",
    ),
    (
        "register.error.duplicate",
        "Заявка на регистрацию уже подана и ожидает рассмотрения инспектором. Повторно подавать её не нужно.",
        "Каттоо арызы мурун берилген жана инспектордун кароосун күтүүдө. Аны кайра берүүнүн кереги жок.",
        "An application has already been submitted and is waiting for an inspector. There is no need to submit it again.",
    ),
    (
        "register.error.pending_personal",
        "Ваша заявка на регистрацию ещё ожидает рассмотрения. После её одобрения подайте заявку на привязку организации с тем же паролем.",
        "Сиздин каттоо арызыңыз дагы эле кароону күтүүдө. Ал жактырылгандан кийин уюмду байлоо арызын ошол эле сырсөз менен бериңиз.",
        "Your own registration is still waiting for an inspector. Once it is approved, apply to link the organization with the same password.",
    ),
    (
        "register.error.already_registered",
        "Пользователь с этим ИНН уже зарегистрирован в Кабинете налогоплательщика. Войдите со своим логином и паролем.",
        "Бул ИНН менен колдонуучу Салык төлөөчүнүн кабинетинде мурун катталган. Логиниңиз жана сырсөзүңүз менен кириңиз.",
        "A user with this INN is already registered in the Taxpayer Cabinet. Sign in with your login and password.",
    ),
    (
        "register.error.already_linked",
        "Эта организация уже привязана к вашей учётной записи. Войдите и выберите её на странице «Выбор входа».",
        "Бул уюм сиздин эсептик жазууңузга мурун байланган. Кирип, «Кирүүнү тандоо» барагында аны тандаңыз.",
        "This organization is already linked to your account. Sign in and choose it on the “Choose an account” page.",
    ),
    (
        "register.error.no_password_account",
        "Ваша учётная запись зарегистрирована через электронную подпись: привяжите организацию через ЭП.",
        "Сиздин эсептик жазууңуз электрондук кол тамга аркылуу катталган: уюмду ЭКТ аркылуу байлаңыз.",
        "Your account was registered with an electronic signature: link the organization with your signature.",
    ),
    (
        "register.error.link_password",
        "Вы уже зарегистрированы в Кабинете налогоплательщика: укажите пароль вашей основной учётной записи",
        "Сиз Салык төлөөчүнүн кабинетинде мурун катталгансыз: негизги эсептик жазууңуздун сырсөзүн көрсөтүңүз",
        "You are already registered in the Taxpayer Cabinet: enter the password of your main account",
    ),
    (
        "register.refuse.ip_vat",
        "Индивидуальный предприниматель является плательщиком НДС. Регистрация через ЭП обязательна для плательщиков НДС — зарегистрируйтесь с электронной подписью.",
        "Жеке ишкер КНСтин төлөөчүсү болуп саналат. КНС төлөөчүлөрү үчүн ЭКТ аркылуу каттоо милдеттүү — электрондук кол тамга менен катталыңыз.",
        "The individual entrepreneur is a VAT payer. Registration with an electronic signature is mandatory for VAT payers — please register with your signature.",
    ),
    (
        "register.refuse.ip_trade",
        "Индивидуальный предприниматель осуществляет импорт и/или экспорт товаров. Регистрация через ЭП обязательна для импортёров и экспортёров — зарегистрируйтесь с электронной подписью.",
        "Жеке ишкер товарларды импорттойт жана/же экспорттойт. Импорттоочулар жана экспорттоочулар үчүн ЭКТ аркылуу каттоо милдеттүү — электрондук кол тамга менен катталыңыз.",
        "The individual entrepreneur imports and/or exports goods. Registration with an electronic signature is mandatory for importers and exporters — please register with your signature.",
    ),
    (
        "register.refuse.kfh_vat",
        "Крестьянское (фермерское) хозяйство является плательщиком НДС. Регистрация через ЭП обязательна для плательщиков НДС — зарегистрируйтесь с электронной подписью.",
        "Дыйкан (фермер) чарбасы КНСтин төлөөчүсү болуп саналат. КНС төлөөчүлөрү үчүн ЭКТ аркылуу каттоо милдеттүү — электрондук кол тамга менен катталыңыз.",
        "The peasant farm is a VAT payer. Registration with an electronic signature is mandatory for VAT payers — please register with your signature.",
    ),
    (
        "register.refuse.org_vat",
        "Организация является плательщиком НДС. Регистрация через ЭП обязательна для организаций — плательщиков НДС: зарегистрируйте её с электронной подписью.",
        "Уюм КНСтин төлөөчүсү болуп саналат. КНС төлөөчү уюмдар үчүн ЭКТ аркылуу каттоо милдеттүү: аны электрондук кол тамга менен каттаңыз.",
        "The organization is a VAT payer. Registration with an electronic signature is mandatory for VAT-paying organizations: please register it with a signature.",
    ),
    (
        "register.refuse.org_trade",
        "Организация осуществляет импорт и/или экспорт товаров. Регистрация через ЭП обязательна для таких организаций: зарегистрируйте её с электронной подписью.",
        "Уюм товарларды импорттойт жана/же экспорттойт. Мындай уюмдар үчүн ЭКТ аркылуу каттоо милдеттүү: аны электрондук кол тамга менен каттаңыз.",
        "The organization imports and/or exports goods. Registration with an electronic signature is mandatory for such organizations: please register it with a signature.",
    ),
    (
        "register.refuse.branch",
        "Филиал регистрируется только через ЭП, с указанием ИНН головной организации.",
        "Филиал баш уюмдун ИННин көрсөтүү менен ЭКТ аркылуу гана катталат.",
        "A branch registers only with an electronic signature, naming its head organization’s INN.",
    ),
    (
        "register.refuse.liquidated",
        "Налогоплательщик ликвидирован: регистрация в Кабинете налогоплательщика невозможна.",
        "Салык төлөөчү жоюлган: Салык төлөөчүнүн кабинетинде каттоо мүмкүн эмес.",
        "The taxpayer has been liquidated and cannot be registered in the Taxpayer Cabinet.",
    ),
    (
        "register.refuse.org_as_person",
        "Этот ИНН принадлежит организации. Выберите тип лица «юридическое лицо», укажите ИНН организации в поле «ИНН юридического лица», а в поле «ИНН» — свой личный ИНН.",
        "Бул ИНН уюмга таандык. «Юридикалык жак» түрүн тандап, уюмдун ИННин «Юридикалык жактын ИННи» талаасына, өзүңүздүн жеке ИННиңизди «ИНН» талаасына жазыңыз.",
        "This INN belongs to an organization. Choose “legal entity”, enter the organization’s INN as the legal entity’s INN and your own INN in the “INN” field.",
    ),
    (
        "register.refuse.not_org",
        "Этот ИНН не принадлежит юридическому лицу. Физические лица, индивидуальные предприниматели и КФХ регистрируются с типом «физическое лицо».",
        "Бул ИНН юридикалык жакка таандык эмес. Жеке жактар, жеке ишкерлер жана ДФЧ «жеке жак» түрү менен катталат.",
        "This INN does not belong to a legal entity. Individuals, individual entrepreneurs and peasant farms register as “individual”.",
    ),
    (
        "register.refuse.not_head",
        "Регистрация юридического лица осуществляется руководителем или бухгалтером организации",
        "Юридикалык жакты уюмдун жетекчиси же бухгалтери каттайт",
        "A legal entity is registered by the organization’s head or accountant",
    ),
    (
        "register.signature_hint",
        "Регистрация с электронной подписью — на вкладках «ЭП», «Smart-ID KG» и «Облако» этой страницы.",
        "Электрондук кол тамга менен каттоо — ушул барактын «ЭКТ», «Smart-ID KG» жана «Булут» өтмөктөрүндө.",
        "Registration with an electronic signature is on the E-signature, Smart-ID KG and Cloud tabs of this page.",
    ),
    (
        "register.saved.title",
        "Заявка на регистрацию сохранена",
        "Каттоо арызы сакталды",
        "Application saved",
    ),
    (
        "register.saved.text",
        "Заявка на регистрацию в Кабинете налогоплательщика сохранена и направлена инспектору налоговой службы.",
        "Салык төлөөчүнүн кабинетинде каттоо арызы сакталды жана салык кызматынын инспекторуна жөнөтүлдү.",
        "Your application for registration in the Taxpayer Cabinet has been saved and sent to a tax inspector.",
    ),
    (
        "register.saved.next",
        "Для подтверждения регистрации обратитесь с паспортом в указанное УГНС: инспектор проверит ваши данные, подтвердит регистрацию и сообщит логин для входа. Пароль — тот, который вы указали.",
        "Каттоону ырастоо үчүн паспортуңуз менен көрсөтүлгөн СКБга кайрылыңыз: инспектор маалыматтарыңызды текшерип, каттоону ырастайт жана кирүү үчүн логинди берет. Сырсөз — сиз көрсөткөн сырсөз.",
        "To confirm the registration, visit the tax office shown with your passport: the inspector checks your details, confirms the registration and gives you your login. The password is the one you chose.",
    ),
    (
        "register.saved.next_link",
        "Запрос на привязку организации отправлен инспектору на одобрение. После одобрения войдите со своим логином и паролем — организация появится на странице «Выбор входа».",
        "Уюмду байлоо суроо-талабы инспекторго жактырууга жөнөтүлдү. Жактырылгандан кийин логиниңиз жана сырсөзүңүз менен кириңиз — уюм «Кирүүнү тандоо» барагында пайда болот.",
        "The request to link the organization has been sent to an inspector. Once approved, sign in with your login and password — the organization appears on the “Choose an account” page.",
    ),
    (
        "register.saved.keep_number",
        "Сохраните номер заявки: по нему можно узнать её статус.",
        "Арыздын номерин сактап коюңуз: ал аркылуу анын абалын билсе болот.",
        "Keep the application number: you can check its status with it.",
    ),
    (
        "register.saved.status",
        "Статус заявки",
        "Арыздын абалы",
        "Application status",
    ),
    (
        "register.status.title",
        "Заявка на регистрацию",
        "Каттоо арызы",
        "Registration application",
    ),
    (
        "register.status.number",
        "Номер заявки",
        "Арыздын номери",
        "Application number",
    ),
    (
        "register.status.office",
        "Налоговый орган",
        "Салык органы",
        "Tax office",
    ),
    ("register.status.reason", "Причина отказа", "Баш тартуунун себеби", "Reason"),
    (
        "register.status.pending",
        "Заявка ожидает рассмотрения инспектором",
        "Арыз инспектордун кароосун күтүүдө",
        "The application is waiting for an inspector",
    ),
    (
        "register.status.pending_hint",
        "Для подтверждения регистрации предъявите паспорт инспектору налогового органа, указанного ниже.",
        "Каттоону ырастоо үчүн төмөндө көрсөтүлгөн салык органынын инспекторуна паспортуңузду көрсөтүңүз.",
        "To confirm the registration, show your passport to an inspector of the tax office below.",
    ),
    (
        "register.status.approved",
        "Регистрация подтверждена",
        "Каттоо ырасталды",
        "The registration is confirmed",
    ),
    (
        "register.status.approved_login",
        "Ваш логин передаст инспектор налогового органа, указанного ниже, при личном обращении с паспортом.",
        "Логиниңизди төмөндө көрсөтүлгөн салык органынын инспектору паспорт менен жеке кайрылганда берет.",
        "Your login is handed over by an inspector of the tax office below when you visit with your passport.",
    ),
    (
        "register.status.approved_link",
        "Организация привязана к вашей учётной записи. Войдите со своим логином и выберите её на странице «Выбор входа».",
        "Уюм сиздин эсептик жазууңузга байланды. Логиниңиз менен кирип, «Кирүүнү тандоо» барагында аны тандаңыз.",
        "The organization is linked to your account. Sign in with your login and choose it on the “Choose an account” page.",
    ),
    (
        "register.status.rejected",
        "В регистрации отказано",
        "Каттоодон баш тартылды",
        "The registration was refused",
    ),
    (
        "register.add_inn.intro",
        "Если при регистрации выходит сообщение «Не найден пользователь», ваш ИНН ещё не зарегистрирован в налоговой службе. Введите ИНН и нажмите «Поиск»: данные будут взяты из Государственного реестра населения.",
        "Каттоодо «Колдонуучу табылган жок» деген билдирүү чыкса, ИННиңиз салык кызматында али катталган эмес. ИННди киргизип, «Издөө» баскычын басыңыз: маалыматтар Калктын мамлекеттик реестринен алынат.",
        "If registration says “User not found”, your INN is not yet registered with the tax service. Enter the INN and press “Search”: your details are taken from the State Population Register.",
    ),
    (
        "register.add_inn.found",
        "Найдено в реестре населения",
        "Калк реестринен табылды",
        "Found in the population register",
    ),
    (
        "register.add_inn.register",
        "Зарегистрировать",
        "Каттоо",
        "Register",
    ),
    (
        "register.add_inn.other",
        "Другой ИНН",
        "Башка ИНН",
        "Another INN",
    ),
    (
        "register.add_inn.done",
        "НП зарегистрирован",
        "СТ катталды",
        "Taxpayer registered",
    ),
    (
        "register.add_inn.continue",
        "Продолжить регистрацию через логин и пароль",
        "Логин жана сырсөз аркылуу каттоону улантуу",
        "Continue registration with login and password",
    ),
    (
        "register.add_inn.already",
        "Налогоплательщик с этим ИНН уже зарегистрирован в налоговой службе — продолжите регистрацию на вкладке «Логин и пароль».",
        "Бул ИНН менен салык төлөөчү салык кызматында мурун катталган — каттоону «Логин жана сырсөз» өтмөгүндө улантыңыз.",
        "A taxpayer with this INN is already registered with the tax service — continue on the “Login and password” tab.",
    ),
    (
        "register.add_inn.unknown",
        "Человек с таким ИНН не найден в Государственном реестре населения. Проверьте ИНН; если он верен, обратитесь в налоговый орган.",
        "Мындай ИНН менен адам Калктын мамлекеттик реестринде табылган жок. ИННди текшериңиз; ал туура болсо, салык органына кайрылыңыз.",
        "No person with this INN was found in the State Population Register. Check the INN; if it is correct, contact your tax office.",
    ),
    // --- inspector console (R3, D3) ---
    ("inspector.title", "Консоль инспектора", "Инспектордун консолу", "Inspector console"),
    ("inspector.signed_in_as", "Инспектор", "Инспектор", "Inspector"),
    ("inspector.offices", "УГНС", "УГНС", "Tax offices"),
    (
        "inspector.queue",
        "Заявления на рассмотрении",
        "Каралуудагы арыздар",
        "Pending applications",
    ),
    (
        "inspector.empty",
        "Заявлений на рассмотрении нет",
        "Каралуудагы арыздар жок",
        "There are no pending applications",
    ),
    ("inspector.col.number", "№", "№", "No."),
    ("inspector.col.date", "Дата подачи", "Берилген күнү", "Submitted"),
    ("inspector.col.kind", "Тип заявления", "Арыздын түрү", "Application type"),
    ("inspector.col.organization", "Организация", "Уюм", "Organization"),
    ("inspector.col.office", "УГНС", "УГНС", "Tax office"),
    ("inspector.kind.person", "физическое лицо", "жеке жак", "individual"),
    ("inspector.kind.legal_entity", "юридическое лицо", "юридикалык жак", "legal entity"),
    (
        "inspector.kind.link_request",
        "привязка организации",
        "уюмду байлоо",
        "organization link request",
    ),
    ("inspector.status.pending", "на рассмотрении", "каралууда", "pending"),
    ("inspector.status.approved", "подтверждено", "ырасталды", "approved"),
    ("inspector.status.rejected", "отказано", "баш тартылды", "rejected"),
    ("inspector.application", "Заявление №", "Арыз №", "Application No."),
    ("inspector.back", "К списку заявлений", "Арыздардын тизмесине", "Back to the queue"),
    ("inspector.section.applicant", "Заявитель", "Арыз ээси", "Applicant"),
    ("inspector.section.organization", "Организация", "Уюм", "Organization"),
    ("inspector.entered", "Указано в заявлении", "Арызда көрсөтүлгөн", "In the application"),
    ("inspector.registry", "Налоговый реестр", "Салык реестри", "Tax registry"),
    ("inspector.differs", "расхождение", "айырмасы бар", "differs"),
    (
        "inspector.not_in_registry",
        "не найден в реестре",
        "реестрден табылган жок",
        "not in the registry",
    ),
    ("inspector.field.full_name", "ФИО", "Аты-жөнү", "Full name"),
    ("inspector.field.inn", "ИНН", "ИНН", "TIN"),
    (
        "inspector.field.address",
        "Место жительства(прописки)/Юридический адрес",
        "Жашаган жери (катталган)/Юридикалык дареги",
        "Residence (registration) / legal address",
    ),
    ("inspector.field.ugns", "Код УГНС", "УГНС коду", "Tax office code"),
    ("inspector.field.org_inn", "ИНН юридического лица", "Юридикалык жактын ИННи", "Legal entity TIN"),
    (
        "inspector.field.org_name",
        "Наименование налогоплательщика",
        "Салык төлөөчүнүн аталышы",
        "Taxpayer name",
    ),
    ("inspector.field.vat", "Плательщик НДС", "КНС төлөөчү", "VAT payer"),
    ("inspector.field.foreign_trade", "Импорт/экспорт", "Импорт/экспорт", "Import/export"),
    ("inspector.field.parent_inn", "ИНН головной организации", "Башкы уюмдун ИННи", "Head organization TIN"),
    ("inspector.field.head_pin", "ПИН руководителя", "Жетекчинин ПИНи", "Head's PIN"),
    ("inspector.field.accountant_pin", "ПИН бухгалтера", "Бухгалтердин ПИНи", "Accountant's PIN"),
    ("inspector.field.role", "Заявитель в организации", "Арыз ээсинин уюмдагы ролу", "Applicant's role"),
    ("inspector.field.status", "Статус", "Абалы", "Status"),
    ("inspector.yes", "да", "ооба", "yes"),
    ("inspector.no", "нет", "жок", "no"),
    ("inspector.trade.none", "нет", "жок", "none"),
    ("inspector.trade.import", "импорт", "импорт", "import"),
    ("inspector.trade.export", "экспорт", "экспорт", "export"),
    ("inspector.trade.both", "импорт и экспорт", "импорт жана экспорт", "import and export"),
    ("inspector.taxpayer.active", "действующий", "иштеп жатат", "active"),
    ("inspector.taxpayer.liquidated", "ликвидирован", "жоюлган", "liquidated"),
    ("inspector.role.head", "руководитель", "жетекчи", "head"),
    ("inspector.role.accountant", "бухгалтер", "бухгалтер", "accountant"),
    (
        "inspector.role.none",
        "не руководитель и не бухгалтер",
        "жетекчи да, бухгалтер да эмес",
        "neither head nor accountant",
    ),
    (
        "inspector.existing_user",
        "Учётная запись пользователя",
        "Колдонуучунун эсептик жазуусу",
        "User account",
    ),
    ("inspector.login", "Логин", "Логин", "Login"),
    ("inspector.approve.title", "Подтверждение регистрации", "Каттоону ырастоо", "Approve the registration"),
    ("inspector.passport", "Паспорт предъявлен", "Паспорт көрсөтүлдү", "Passport presented"),
    (
        "inspector.passport_hint",
        "Подтвердите регистрацию только после того, как налогоплательщик лично предъявил паспорт и его данные совпали с заявлением.",
        "Салык төлөөчү паспортун өзү көрсөтүп, анын маалыматтары арызга дал келгенден кийин гана каттоону ырастаңыз.",
        "Approve only after the taxpayer has presented their passport in person and it matches the application.",
    ),
    ("inspector.approve", "Подтвердить", "Ырастоо", "Approve"),
    ("inspector.reject.title", "Отказ в регистрации", "Каттоодон баш тартуу", "Reject the application"),
    ("inspector.reason", "Причина отказа", "Баш тартуунун себеби", "Reason for rejection"),
    ("inspector.reject", "Отказать", "Баш тартуу", "Reject"),
    ("inspector.approved.title", "Регистрация подтверждена", "Каттоо ырасталды", "Registration approved"),
    (
        "inspector.approved.login",
        "Логин для передачи налогоплательщику:",
        "Салык төлөөчүгө бериле турган логин:",
        "Login to hand over to the taxpayer:",
    ),
    (
        "inspector.approved.hint",
        "Сообщите логин налогоплательщику. Пароль — тот, что он указал в заявлении.",
        "Логинди салык төлөөчүгө айтыңыз. Сырсөз — ал арызда көрсөткөн сырсөз.",
        "Give the login to the taxpayer. The password is the one they chose in the application.",
    ),
    (
        "inspector.approved.linked",
        "Учётная запись организации добавлена пользователю с логином",
        "Уюмдун эсептик жазуусу колдонуучуга кошулду, логини",
        "The organization account was added to the user with login",
    ),
    ("inspector.rejected.title", "В регистрации отказано", "Каттоодон баш тартылды", "Application rejected"),
    (
        "inspector.forbidden",
        "Консоль доступна только инспекторам УГНС. Ваша учётная запись не назначена инспектором ни одного УГНС.",
        "Консоль УГНС инспекторлору үчүн гана. Сиздин эсептик жазууңуз эч бир УГНСтин инспектору катары дайындалган эмес.",
        "The console is for tax office inspectors only. Your account is not an inspector of any tax office.",
    ),
    (
        "inspector.error.passport",
        "Регистрацию можно подтвердить только после предъявления паспорта: отметьте «Паспорт предъявлен».",
        "Каттоону паспорт көрсөтүлгөндөн кийин гана ырастоого болот: «Паспорт көрсөтүлдү» белгилеңиз.",
        "A registration can be approved only after the passport was presented: tick «Passport presented».",
    ),
    (
        "inspector.error.reason",
        "Укажите причину отказа",
        "Баш тартуунун себебин көрсөтүңүз",
        "Give the reason for the rejection",
    ),
    (
        "inspector.error.reason_long",
        "Причина отказа слишком длинная (не более 1000 символов)",
        "Баш тартуунун себеби өтө узун (1000 белгиден ашпашы керек)",
        "The reason is too long (at most 1000 characters)",
    ),
    (
        "inspector.error.decided",
        "Заявление уже рассмотрено",
        "Арыз мурда каралган",
        "This application has already been decided",
    ),
    (
        "inspector.error.user_exists",
        "Пользователь с этим ИНН уже зарегистрирован в Кабинете налогоплательщика",
        "Бул ИНН менен колдонуучу Салык төлөөчүнүн кабинетинде мурда катталган",
        "A user with this TIN is already registered in the Taxpayer Cabinet",
    ),
    (
        "inspector.error.applicant_unknown",
        "Учётная запись заявителя не найдена",
        "Арыз ээсинин эсептик жазуусу табылган жок",
        "The applicant's account was not found",
    ),
    (
        "inspector.error.org_unknown",
        "Организация не найдена в налоговом реестре",
        "Уюм салык реестринен табылган жок",
        "The organization is not in the tax registry",
    ),
    (
        "inspector.error.not_legal_entity",
        "По данным налогового реестра это не юридическое лицо",
        "Салык реестринин маалыматы боюнча бул юридикалык жак эмес",
        "According to the tax registry this is not a legal entity",
    ),
    (
        "inspector.error.liquidated",
        "Организация ликвидирована",
        "Уюм жоюлган",
        "The organization has been liquidated",
    ),
    (
        "inspector.error.not_head",
        "По данным налогового реестра заявитель не является руководителем или бухгалтером организации",
        "Салык реестринин маалыматы боюнча арыз ээси уюмдун жетекчиси же бухгалтери эмес",
        "According to the tax registry the applicant is neither the head nor the accountant",
    ),
    (
        "inspector.error.name",
        "ФИО в заявлении нельзя разделить на фамилию и имя",
        "Арыздагы аты-жөнүн фамилияга жана атка бөлүүгө болбойт",
        "The full name in the application cannot be split into family and given name",
    ),
    // --- forms ---
    (
        "form.required",
        "Заполните это поле",
        "Бул талааны толтуруңуз",
        "Please fill in this field",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_key_has_three_non_empty_translations() {
        for &(key, ru, ky, en) in CATALOGUE {
            assert!(!key.is_empty());
            for (lang, s) in [("ru", ru), ("ky", ky), ("en", en)] {
                assert!(!s.trim().is_empty(), "{key}: empty {lang} translation");
                assert_eq!(s, s.trim(), "{key}: stray whitespace in {lang}");
            }
        }
    }

    #[test]
    fn no_duplicate_keys() {
        let mut seen = HashSet::new();
        for &(key, ..) in CATALOGUE {
            assert!(seen.insert(key), "duplicate key {key}");
        }
        assert_eq!(INDEX.len(), CATALOGUE.len());
    }

    /// The keys the pages are written against (the catalogue may hold more).
    const REQUIRED: &[&str] = &[
        "app.name",
        "app.tagline",
        "app.authority",
        "lang.label",
        "lang.ru",
        "lang.ky",
        "lang.en",
        "login.title",
        "login.for_service",
        "login.tab.password",
        "login.tab.signature",
        "login.tab.smartid",
        "login.tab.cloud",
        "login.tab.esi",
        "login.tab.later",
        "login.register",
        "login.login",
        "login.password",
        "login.submit",
        "login.error.invalid",
        "login.higher_level",
        "account.title",
        "account.intro",
        "account.kind.individual",
        "account.kind.organization",
        "account.kind.branch",
        "account.inn",
        "account.role.self",
        "account.role.head",
        "account.role.accountant",
        "account.role.employee",
        "account.consent",
        "account.continue",
        "account.cancel",
        "account.none",
        "account.required_org",
        "logout.title",
        "logout.confirm",
        "logout.submit",
        "logout.cancel",
        "logout.done",
        "error.title",
        "error.generic",
        "error.not_found",
        "error.unavailable",
        "error.invalid_request",
        "error.unknown_client",
        "error.redirect_uri",
        "error.csrf",
        "error.request_expired",
        "error.too_many",
        "error.back",
        "error.details",
        "home.title",
        "home.text",
        "home.session",
        "home.no_session",
        "demo.title",
        "demo.intro",
        "demo.sign_in",
        "demo.id_token",
        "demo.userinfo",
        "demo.account",
        "demo.again",
        "demo.logout",
        "form.required",
    ];

    #[test]
    fn required_keys_present() {
        for key in REQUIRED {
            assert!(INDEX.contains_key(key), "missing {key}");
        }
    }

    #[test]
    fn lookup_and_missing_key() {
        assert_eq!(t(Lang::Ru, "login.title"), "Вход");
        assert_eq!(t(Lang::Ky, "login.password"), "Сырсөз");
        assert_eq!(t(Lang::En, "login.submit"), "Sign in");
        assert_eq!(t(Lang::Ru, "no.such.key"), "no.such.key");
        let tr = Tr { lang: Lang::Ky };
        assert_eq!(tr.t("error.title"), "Ката");
        assert_eq!(tr.code(), "ky");
    }

    #[test]
    fn parse_tags() {
        for (tag, want) in [
            ("ru", Some(Lang::Ru)),
            ("ru-RU", Some(Lang::Ru)),
            ("RU", Some(Lang::Ru)),
            ("ky", Some(Lang::Ky)),
            ("ky-KG", Some(Lang::Ky)),
            ("kg", Some(Lang::Ky)),
            ("KY_kg", Some(Lang::Ky)),
            ("en", Some(Lang::En)),
            ("en-US", Some(Lang::En)),
            ("En-Gb", Some(Lang::En)),
            ("de", None),
            ("*", None),
            ("", None),
            ("rus", None),
            ("english", None),
        ] {
            assert_eq!(Lang::parse(tag), want, "{tag:?}");
        }
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
    }

    #[test]
    fn negotiate_order() {
        // ui_locales beats cookie beats Accept-Language.
        assert_eq!(
            Lang::negotiate(Some("en"), Some("ky"), Some("ru")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("ky"), Some("en")), Lang::Ky);
        assert_eq!(Lang::negotiate(None, None, Some("en")), Lang::En);
        // First *supported* ui_locales tag; unknown tags are skipped.
        assert_eq!(
            Lang::negotiate(Some("fr-CA de  ky-KG en"), Some("ru"), None),
            Lang::Ky
        );
        // Unsupported ui_locales / cookie fall through.
        assert_eq!(
            Lang::negotiate(Some("fr de"), Some("xx"), Some("en-US")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(Some(""), Some(""), Some("")), Lang::Ru);
        // q-values are honoured, not header order.
        assert_eq!(
            Lang::negotiate(None, None, Some("ru;q=0.5, en;q=0.9, ky;q=0.7")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("de-DE,de;q=0.9,ky;q=0.8,ru;q=0.7")),
            Lang::Ky
        );
        // Ties keep header order; default q is 1.
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0.8, ky, ru")),
            Lang::Ky
        );
        // q=0 means "not acceptable"; malformed q is ignored; `*` is not a language.
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ky;q=abc, *;q=0.5")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ru;q=0.1")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ky;q=0.1")),
            Lang::Ky
        );
        // Default.
        assert_eq!(Lang::negotiate(None, None, None), Lang::Ru);
        assert_eq!(Lang::negotiate(None, None, Some("fr, de")), Lang::Ru);
        assert_eq!(Lang::default(), Lang::Ru);
    }

    /// Every `tr.t("…")` in `templates/` (recursively) names a catalogue key.
    #[test]
    fn template_keys_exist() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = Vec::new();
        collect_files(&dir, &mut files);
        assert!(!files.is_empty(), "no templates found under {dir:?}");
        let mut used = 0;
        let mut missing_keys = Vec::new();
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            for key in template_keys(&text) {
                used += 1;
                if !INDEX.contains_key(key.as_str()) {
                    missing_keys.push(format!("{}: {key}", file.display()));
                }
            }
        }
        assert!(used > 0, "no tr.t(\"…\") uses found in templates");
        assert!(
            missing_keys.is_empty(),
            "keys missing from the catalogue: {missing_keys:#?}"
        );
    }

    fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// The string literals passed to `tr.t(…)` (whitespace around them allowed).
    fn template_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(pos) = rest.find("tr.t(") {
            rest = &rest[pos + "tr.t(".len()..];
            let arg = rest.trim_start();
            if let Some(lit) = arg.strip_prefix('"') {
                if let Some(end) = lit.find('"') {
                    keys.push(lit[..end].to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn template_key_scanner() {
        let keys = template_keys(r#"{{ tr.t("a.b") }} x {{tr.t( "c" )}} {{ xtr.t("d") }}"#);
        assert_eq!(keys, ["a.b", "c", "d"]);
    }

    #[derive(askama::Template)]
    #[template(
        source = "{% extends \"base.html\" %}{% block title %}T{% endblock %}{% block content %}<p>x</p>{% endblock %}",
        ext = "html"
    )]
    struct Probe {
        tr: Tr,
        lang_links: Vec<(String, String)>,
    }

    #[derive(askama::Template)]
    #[template(
        source = "{% extends \"base.html\" %}{% block main_class %}card wide{% endblock %}{% block content %}y{% endblock %}",
        ext = "html"
    )]
    struct WideProbe {
        tr: Tr,
        lang_links: Vec<(String, String)>,
    }

    fn links() -> Vec<(String, String)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code().to_owned(), format!("/login?lang={}&x=1", l.code())))
            .collect()
    }

    #[test]
    fn base_layout_renders() {
        use askama::Template;
        let html = Probe {
            tr: Tr { lang: Lang::Ky },
            lang_links: links(),
        }
        .render()
        .unwrap();
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert!(html.contains(r#"<html lang="ky">"#), "{html}");
        assert!(html.contains("<title>T"), "{html}");
        assert!(html.contains(r#"href="/static/style.css""#));
        assert!(html.contains("Салык төлөөчүнүн кабинети"));
        assert!(html.contains(t(Lang::Ky, "app.authority")));
        assert!(html.contains(r#"<main class="card">"#), "{html}");
        assert!(html.contains("<p>x</p>"));
        // Language switch: every language, hrefs escaped, only Kyrgyz is current.
        assert!(html.contains("Русский") && html.contains("Кыргызча") && html.contains("English"));
        assert!(!html.contains("&x=1"), "unescaped href: {html}");
        assert!(html.contains("/login?lang=en&#38;x=1"), "{html}");
        assert_eq!(html.matches("aria-current").count(), 1, "{html}");
        let current = html.find("aria-current").unwrap();
        let ky_link = html.find("lang=ky&#38;x=1").unwrap();
        let en_link = html.find("lang=en&#38;x=1").unwrap();
        assert!(ky_link < current && current < en_link, "{html}");
        // CSP: no inline scripts or styles.
        assert!(!html.contains("<script") && !html.contains("<style") && !html.contains("style="));

        let html = WideProbe {
            tr: Tr { lang: Lang::En },
            lang_links: Vec::new(),
        }
        .render()
        .unwrap();
        assert!(html.contains(r#"<html lang="en">"#), "{html}");
        assert!(html.contains(r#"<main class="card wide">"#), "{html}");
        assert!(html.contains("<title>Salyk ID</title>"), "{html}");
        assert!(!html.contains("aria-current"));
    }
}
