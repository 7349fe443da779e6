// Salyk ID — DEMO ONLY: a software stand-in for the Rutoken browser plugin.
//
// Defines `window.rutoken` with the surface of Aktiv's adapter script (rutoken-plugin.js):
// `ready`, `isExtensionInstalled()`, `isPluginInstalled()`, `loadPlugin()`; the plugin object
// carries the constants (CERT_CATEGORY_*, TOKEN_INFO_*, DATA_FORMAT_*, …), `errorCodes`, and
// Promise methods named and shaped as the real ones (enumerateDevices, getDeviceInfo,
// enumerateCertificates, parseCertificate, getCertificate, login, logout, sign,
// authenticate). Every call goes to /demo/rutoken/* on this server, where a soft token with
// demo keys signs (idp/demo/token.rs). Served only when IDP_DEMO_TOKEN is on; the page that
// loads it says so, and every device is labelled «Демо-рутокен (программный, только для
// демонстрации)». It protects nothing: never a substitute for a token.
//
// Rejections are what the real plugin's native-messaging version gives: an Error whose
// `message` is the numeric error code, to compare with `plugin.errorCodes.X`. The numbers are
// ours — Aktiv does not publish them, and code written for the plugin compares names.
(function () {
  "use strict";
  if (window.rutoken && window.rutoken.isStandIn !== true) {
    return; // A real adapter is on the page: never shadow it.
  }
  var BASE = "/demo/rutoken/";

  var errorCodes = {
    UNKNOWN_ERROR: 1, BAD_PARAMS: 2, NOT_ENOUGH_MEMORY: 3,
    DEVICE_NOT_FOUND: 20, DEVICE_ERROR: 21, TOKEN_INVALID: 22,
    CERTIFICATE_CATEGORY_BAD: 23, CERTIFICATE_EXISTS: 24, CERTIFICATE_NOT_FOUND: 25,
    CERTIFICATE_HASH_NOT_UNIQUE: 26, CA_CERTIFICATES_NOT_FOUND: 27,
    CERTIFICATE_VERIFICATION_ERROR: 28, PKCS11_LOAD_FAILED: 29,
    PIN_LENGTH_INVALID: 30, PIN_INCORRECT: 31, PIN_LOCKED: 32, PIN_CHANGED: 33,
    PIN_INVALID: 34, USER_PIN_NOT_INITIALIZED: 35, PIN_EXPIRED: 36,
    SESSION_INVALID: 40, USER_NOT_LOGGED_IN: 41, ALREADY_LOGGED_IN: 42,
    KEY_NOT_FOUND: 50, KEY_ID_NOT_UNIQUE: 51, WRONG_KEY_TYPE: 52,
    DATA_INVALID: 60, UNSUPPORTED_BY_TOKEN: 61, FUNCTION_REJECTED: 62, FUNCTION_FAILED: 63,
    BASE64_DECODE_FAILED: 70, PEM_ERROR: 71, ASN1_ERROR: 72
  };

  var plugin = {
    valid: true,
    version: "4.0.0 (демо, программный)",
    isStandIn: true,
    errorCodes: errorCodes,

    CERT_CATEGORY_UNSPEC: 0, CERT_CATEGORY_USER: 1, CERT_CATEGORY_CA: 2, CERT_CATEGORY_OTHER: 3,
    TOKEN_INFO_DEVICE_TYPE: 0, TOKEN_INFO_READER: 1, TOKEN_INFO_LABEL: 2, TOKEN_INFO_MODEL: 3,
    TOKEN_INFO_SERIAL: 4, TOKEN_INFO_IS_LOGGED_IN: 5, TOKEN_INFO_PINS_INFO: 6,
    TOKEN_INFO_PIN_RETRIES_LEFT: 7, TOKEN_INFO_IS_PIN_CACHED: 8,
    TOKEN_TYPE_UNKNOWN: 0, TOKEN_TYPE_RUTOKEN_ECP: 1, TOKEN_TYPE_RUTOKEN_WEB: 2,
    TOKEN_TYPE_RUTOKEN_PINPAD_2: 3, TOKEN_TYPE_RUTOKEN_ECP_SC: 4, TOKEN_TYPE_KAZTOKEN: 5,
    DATA_FORMAT_PLAIN: 0, DATA_FORMAT_BASE64: 1, DATA_FORMAT_HASH: 2,
    ENUMERATE_DEVICES_LIST: 0, ENUMERATE_DEVICES_EVENTS: 1,
    HASH_TYPE_SHA256: 5, PUBLIC_KEY_ALGORITHM_ECDSA_256: 20
  };

  var INFO = {};
  INFO[plugin.TOKEN_INFO_LABEL] = "label";
  INFO[plugin.TOKEN_INFO_MODEL] = "model";
  INFO[plugin.TOKEN_INFO_READER] = "reader";
  INFO[plugin.TOKEN_INFO_SERIAL] = "serial";
  INFO[plugin.TOKEN_INFO_DEVICE_TYPE] = "type";
  INFO[plugin.TOKEN_INFO_PINS_INFO] = "pins";
  INFO[plugin.TOKEN_INFO_PIN_RETRIES_LEFT] = "pin_retries_left";
  var CATEGORY = {};
  CATEGORY[plugin.CERT_CATEGORY_USER] = "user";
  CATEGORY[plugin.CERT_CATEGORY_CA] = "ca";
  CATEGORY[plugin.CERT_CATEGORY_OTHER] = "other";
  CATEGORY[plugin.CERT_CATEGORY_UNSPEC] = "unspec";

  // The soft token's login handles, per device: what "logged in" means for this plugin
  // instance (the real one keeps the PKCS#11 session the same way, per page).
  var sessions = {};

  function reject(name) {
    var code = errorCodes[name] || errorCodes.UNKNOWN_ERROR;
    return Promise.reject(new Error(String(code)));
  }

  function call(name, args) {
    return fetch(BASE + name, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(args || {})
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: "UNKNOWN_ERROR" };
      });
    }, function () {
      return { error: "DEVICE_ERROR" };
    }).then(function (answer) {
      if (answer && answer.error) {
        return reject(answer.error);
      }
      return answer.result;
    });
  }

  plugin.enumerateDevices = function () {
    return call("devices");
  };

  plugin.getDeviceInfo = function (device, type) {
    if (type === plugin.TOKEN_INFO_IS_LOGGED_IN) {
      return Promise.resolve(!!sessions[device]);
    }
    if (type === plugin.TOKEN_INFO_IS_PIN_CACHED) {
      return Promise.resolve(false);
    }
    if (type === plugin.TOKEN_INFO_DEVICE_TYPE) {
      return call("device-info", { device: device, info: "type" }).then(function () {
        return plugin.TOKEN_TYPE_RUTOKEN_ECP;
      });
    }
    if (!INFO.hasOwnProperty(type)) {
      return reject("BAD_PARAMS");
    }
    return call("device-info", { device: device, info: INFO[type] });
  };

  plugin.enumerateCertificates = function (device, category) {
    if (!CATEGORY.hasOwnProperty(category)) {
      return reject("CERTIFICATE_CATEGORY_BAD");
    }
    return call("certificates", { device: device, category: CATEGORY[category] });
  };

  plugin.parseCertificate = function (device, handle) {
    return call("parse-certificate", { device: device, certificate: handle });
  };

  plugin.getCertificate = function (device, handle) {
    return call("certificate", { device: device, certificate: handle });
  };

  plugin.login = function (device, pin) {
    if (sessions[device]) {
      return reject("ALREADY_LOGGED_IN");
    }
    return call("login", { device: device, pin: String(pin) }).then(function (result) {
      sessions[device] = result.session;
    });
  };

  plugin.logout = function (device) {
    var session = sessions[device];
    if (!session) {
      return reject("USER_NOT_LOGGED_IN");
    }
    delete sessions[device];
    return call("logout", { device: device, session: session }).then(function () {});
  };

  plugin.removePin = function () {
    return Promise.resolve();
  };

  // sign(device, certificate, data, isBase64 | DATA_FORMAT_*, options) → base64 CMS.
  plugin.sign = function (device, handle, data, format, options) {
    var opts = options || {};
    var session = sessions[device];
    if (!session) {
      return reject("USER_NOT_LOGGED_IN");
    }
    return call("sign", {
      device: device,
      session: session,
      certificate: handle,
      data: String(data),
      base64: format === true || format === plugin.DATA_FORMAT_BASE64,
      detached: !!opts.detached,
      add_user_certificate: opts.addUserCertificate !== false
    });
  };

  plugin.authenticate = function (device, handle, salt) {
    var session = sessions[device];
    if (!session) {
      return reject("USER_NOT_LOGGED_IN");
    }
    return call("authenticate", {
      device: device,
      session: session,
      certificate: handle,
      salt: String(salt)
    });
  };

  window.rutoken = {
    isStandIn: true,
    ready: Promise.resolve(true),
    isExtensionInstalled: function () {
      return Promise.resolve(true);
    },
    isPluginInstalled: function () {
      return Promise.resolve(true);
    },
    loadPlugin: function () {
      return Promise.resolve(plugin);
    }
  };
})();
