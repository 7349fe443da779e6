-- The tax registry's taxpayers (loaded by the `registry` adapter), the УГНС reference list,
-- registration applications (R1, R3, R5) and the offices each inspector decides for (D3).
-- Mirrors migrations/sqlite/0002_registry_registration.sql.

-- kind and foreign_trade hold the registry export's codes (ORG, BRANCH, IP, KFH, PERSON;
-- NONE, IMPORT, EXPORT, BOTH). No foreign keys to ugns_offices or to a branch's head: the
-- registry is loaded as it comes.
CREATE TABLE taxpayers (
    inn            TEXT    NOT NULL PRIMARY KEY CHECK (inn <> ''),
    kind           TEXT    NOT NULL,
    legal_form     TEXT,
    name           TEXT    NOT NULL,
    address        TEXT    NOT NULL,
    ugns_code      TEXT    NOT NULL,
    vat_payer      BOOLEAN NOT NULL DEFAULT FALSE,
    vat_reg_date   TEXT,
    foreign_trade  TEXT    NOT NULL,
    parent_inn     TEXT,
    head_pin       TEXT,
    accountant_pin TEXT,
    large_taxpayer BOOLEAN NOT NULL DEFAULT FALSE,
    liquidated     BOOLEAN NOT NULL DEFAULT FALSE
);

-- Reference data: docs domain-kg.md §2 (codes are the offices' e-mail prefixes).
CREATE TABLE ugns_offices (
    code TEXT NOT NULL PRIMARY KEY CHECK (length(code) = 3),
    name TEXT NOT NULL
);

INSERT INTO ugns_offices (code, name) VALUES
    ('001', 'УГНС по Октябрьскому району г. Бишкек'),
    ('002', 'УГНС по Ленинскому району г. Бишкек'),
    ('003', 'УГНС по Свердловскому району г. Бишкек'),
    ('004', 'УГНС по Первомайскому району г. Бишкек'),
    ('005', 'УГНС по Аламудунскому району'),
    ('007', 'УГНС по Кеминскому району'),
    ('008', 'УГНС по Ысык-Атинскому району'),
    ('009', 'УГНС по Жайыльскому району'),
    ('010', 'УГНС по Московскому району'),
    ('011', 'УГНС по Панфиловскому району'),
    ('012', 'УГНС по Сокулукскому району'),
    ('013', 'УГНС по Чуйскому району'),
    ('014', 'УГНС по Иссык-Кульскому району'),
    ('015', 'УГНС по Ак-Суйскому району'),
    ('016', 'УГНС по Тонскому району'),
    ('017', 'УГНС по Жети-Огузскому району'),
    ('018', 'УГНС по Тюпскому району'),
    ('019', 'УГНС по г. Каракол'),
    ('020', 'УГНС по г. Балыкчы'),
    ('021', 'УГНС по Алайскому району'),
    ('022', 'УГНС по Чон-Алайскому району'),
    ('023', 'УГНС по Араванскому району'),
    ('024', 'УГНС по Баткенскому району'),
    ('025', 'УГНС по Кара-Суйскому району'),
    ('026', 'УГНС по Лейлекскому району'),
    ('027', 'УГНС по Ноокатскому району'),
    ('028', 'УГНС по Кара-Кульджинскому району'),
    ('029', 'УГНС по Узгенскому району'),
    ('030', 'УГНС по Кадамжайскому району'),
    ('031', 'УГНС по г. Кызыл-Кия'),
    ('032', 'УГНС по г. Ош'),
    ('033', 'УГНС по г. Сулюкта'),
    ('034', 'УГНС по Ак-Талинскому району'),
    ('035', 'УГНС по Ат-Башинскому району'),
    ('036', 'УГНС по Кочкорскому району'),
    ('037', 'УГНС по Жумгальскому району'),
    ('038', 'УГНС по Нарынскому району'),
    ('039', 'УГНС по Сузакскому району'),
    ('040', 'УГНС по Ноокенскому району'),
    ('041', 'УГНС по Ала-Букинскому району'),
    ('042', 'УГНС по Токтогульскому району'),
    ('043', 'УГНС по Аксыйскому району'),
    ('044', 'УГНС по Тогуз-Тороузскому району'),
    ('045', 'УГНС по Базар-Коргонскому району'),
    ('047', 'УГНС по Чаткальскому району'),
    ('048', 'УГНС по г. Манас'),
    ('049', 'УГНС по г. Таш-Кумыр'),
    ('050', 'УГНС по г. Майлуу-Суу'),
    ('052', 'УГНС по г. Кара-Куль'),
    ('053', 'УГНС по Таласскому району'),
    ('054', 'УГНС по Бакай-Атинскому району'),
    ('055', 'УГНС по Айтматовскому району'),
    ('056', 'УГНС по Манасскому району'),
    ('057', 'УГНС по г. Талас'),
    ('058', 'УГНС по г. Токмок'),
    ('059', 'УГНС по г. Нарын'),
    ('060', 'УГНС по г. Баткен'),
    ('990', 'УГНС по работе с драгоценными металлами'),
    ('992', 'УГНС по центральному обслуживанию предпринимателей г. Ош и Ошской обл. (ЦОП Ош)'),
    ('994', 'УГНС по центральному обслуживанию предпринимателей по г. Бишкек (ЦОП Бишкек)'),
    ('995', 'УГНС по гос. регулированию алкогольного рынка и оборота табачных изделий'),
    ('996', 'УГНС по работе с косвенными налогами в рамках ЕАЭС'),
    ('997', 'УГНС по контролю за крупными налогоплательщиками по г. Ош и Южному региону'),
    ('998', 'УГНС по контролю за субъектами СЭЗ г. Бишкек'),
    ('999', 'УГНС по контролю за крупными налогоплательщиками по г. Бишкек и Северному региону (УККН)');

-- A sequence never hands a number out twice: the applicant is told theirs.
CREATE TABLE applications (
    number           BIGSERIAL PRIMARY KEY,
    kind             TEXT    NOT NULL
                     CHECK (kind IN ('person', 'legal_entity', 'link_request')),
    ugns_code        TEXT    NOT NULL,
    person_inn       TEXT    NOT NULL,
    full_name        TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    org_inn          TEXT,
    org_name         TEXT,
    password_hash    TEXT,
    existing_user_id TEXT    REFERENCES users (id),
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'rejected')),
    reject_reason    TEXT,
    login            TEXT,
    decided_by       TEXT,
    decided_at       BIGINT,
    created_at       BIGINT  NOT NULL
);
-- Inspectors list the pending applications of their offices.
CREATE INDEX applications_status_ugns ON applications (status, ugns_code);
-- A new application is checked against the applicant's pending ones.
CREATE INDEX applications_pending_person ON applications (person_inn) WHERE status = 'pending';

CREATE TABLE inspector_offices (
    user_id   TEXT NOT NULL REFERENCES users (id),
    ugns_code TEXT NOT NULL REFERENCES ugns_offices (code),
    PRIMARY KEY (user_id, ugns_code)
);
