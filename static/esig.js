// Salyk ID «ЭП» tabs (manual §1.5.2 registration, §2.2 sign-in): drives the Rutoken browser
// plugin through Aktiv's adapter object `window.rutoken` — «Выберите рутокен» (devices and
// their labels), «Выберите сертификат» (the device's user certificates: name and validity),
// «Пароль» (the token's PIN) — and proves the choice to the server:
//
//   login(device, PIN) → POST /api/esig/challenge → sign(device, certificate, challenge)
//   → POST /api/esig/signin | /api/esig/register → navigate to the answer's `redirect`,
//   logging out of the token first.
//
// `sign(…, {detached: false, addUserCertificate: true, addSignTime: true})`, not
// `authenticate(…)`: sign encapsulates exactly the bytes given, so the server compares the
// signed content with the challenge it issued, byte for byte, and finds the signer's
// certificate in the CMS. `authenticate` appends random data of the token in a layout Aktiv
// documents only on dev.rutoken.ru, which a verifier would have to guess.
//
// Everything page-specific comes from data- attributes of #esig-form (the CSP forbids
// inline script), messages included, so they are in the page's language. Plugin failures
// arrive as the plugin gives them — an Error whose message is the numeric code of
// `plugin.errorCodes` (a bare number from older versions) — and are told apart from the
// server's `{error, message}` answers, whose `message` is shown as it is.
(function () {
  "use strict";
  var form = document.getElementById("esig-form");
  if (!form) {
    return;
  }
  var NO_PLUGIN = { noPlugin: true };
  var purpose = form.getAttribute("data-purpose");
  var req = form.getAttribute("data-req") || "";
  var csrf = form.getAttribute("data-csrf") || "";
  var deviceSelect = document.getElementById("esig-device");
  var certSelect = document.getElementById("esig-certificate");
  var pinInput = document.getElementById("esig-pin");
  var refreshButton = document.getElementById("esig-refresh");
  var submitButton = document.getElementById("esig-submit");
  var errorBox = document.getElementById("esig-error");
  var noPluginBox = document.getElementById("esig-no-plugin");
  var branchBox = document.getElementById("esig-branch");
  var headRow = document.getElementById("esig-head-row");
  var headInput = document.getElementById("esig-head-inn");
  var submitLabel = submitButton.textContent;
  var plugin = null;
  var busy = false;
  // Bumped by every (re)enumeration, so a slow answer for an earlier choice is dropped.
  var generation = 0;

  function msg(name) {
    return form.getAttribute("data-msg-" + name) || "";
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function placeholder(select, text) {
    select.textContent = "";
    var option = document.createElement("option");
    option.value = "";
    option.textContent = text;
    select.appendChild(option);
    select.disabled = true;
  }

  function addOption(select, value, text) {
    var option = document.createElement("option");
    option.value = String(value);
    option.textContent = text;
    select.appendChild(option);
  }

  function setReady(ready) {
    submitButton.disabled = !ready || busy;
  }

  function setBusy(on) {
    busy = on;
    submitButton.disabled = on;
    submitButton.textContent = on ? msg("working") : submitLabel;
    submitButton.setAttribute("aria-busy", on ? "true" : "false");
    deviceSelect.disabled = on;
    certSelect.disabled = on;
    refreshButton.disabled = on;
  }

  // The plugin's numeric error code, or null for anything else.
  function errorCode(error) {
    var raw = error && typeof error === "object" ? error.message : error;
    var code = parseInt(raw, 10);
    return isNaN(code) ? null : code;
  }

  function codeIs(code, names) {
    var codes = (plugin && plugin.errorCodes) || {};
    for (var i = 0; i < names.length; i++) {
      if (codes[names[i]] !== undefined && codes[names[i]] === code) {
        return true;
      }
    }
    return false;
  }

  function loadPlugin() {
    if (!window.rutoken || !window.fetch || !window.Promise) {
      return Promise.reject(NO_PLUGIN);
    }
    var rutoken = window.rutoken;
    return rutoken.ready
      .then(function () {
        // Chrome and Firefox reach the plugin through Aktiv's browser extension.
        if (window.chrome || /firefox/i.test(navigator.userAgent)) {
          return rutoken.isExtensionInstalled();
        }
        return true;
      })
      .then(function (installed) {
        if (!installed) {
          throw NO_PLUGIN;
        }
        return rutoken.isPluginInstalled();
      })
      .then(function (installed) {
        if (!installed) {
          throw NO_PLUGIN;
        }
        return rutoken.loadPlugin();
      })
      .then(function (loaded) {
        if (!loaded || !loaded.valid) {
          throw NO_PLUGIN;
        }
        return loaded;
      });
  }

  function selectedDevice() {
    return deviceSelect.value === "" ? null : Number(deviceSelect.value);
  }

  function refreshDevices() {
    var mine = ++generation;
    showError("");
    placeholder(deviceSelect, msg("loading"));
    placeholder(certSelect, "");
    setReady(false);
    return plugin.enumerateDevices().then(function (devices) {
      if (mine !== generation) {
        return;
      }
      if (!devices || !devices.length) {
        placeholder(deviceSelect, msg("no-device"));
        showError(msg("no-device"));
        return;
      }
      return Promise.all(
        devices.map(function (id) {
          return plugin.getDeviceInfo(id, plugin.TOKEN_INFO_LABEL).then(
            function (label) {
              // Aktiv's demo does the same for a token nobody has named.
              if (!label || label === "Rutoken ECP <no label>") {
                label = "Rutoken ECP #" + id;
              }
              return { id: id, label: label };
            },
            function () {
              return { id: id, label: "Rutoken #" + id };
            }
          );
        })
      ).then(function (items) {
        if (mine !== generation) {
          return;
        }
        deviceSelect.textContent = "";
        items.forEach(function (item) {
          addOption(deviceSelect, item.id, item.label);
        });
        deviceSelect.disabled = false;
        return refreshCertificates();
      });
    });
  }

  function rdn(entries, names) {
    for (var i = 0; entries && i < entries.length; i++) {
      if (names.indexOf(entries[i].rdn) >= 0) {
        return entries[i].value;
      }
    }
    return "";
  }

  function twoDigits(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // «Фамилия Имя Отчество — ОсОО «…» (действителен до 01.02.2027)».
  function describe(info) {
    var text = rdn(info.subject, ["commonName", "CN"]) || info.serialNumber || "?";
    var organization = rdn(info.subject, ["organizationName", "O"]);
    if (organization) {
      text += " — " + organization;
    }
    var until = new Date(info.validNotAfter);
    if (!isNaN(until.getTime())) {
      text +=
        until < new Date()
          ? " (" + msg("expired") + ")"
          : " (" + msg("valid-until") + " " + twoDigits(until.getDate()) + "." +
            twoDigits(until.getMonth() + 1) + "." + until.getFullYear() + ")";
    }
    return text;
  }

  function refreshCertificates() {
    var mine = ++generation;
    var device = selectedDevice();
    showError("");
    setReady(false);
    if (device === null) {
      placeholder(certSelect, "");
      return Promise.resolve();
    }
    placeholder(certSelect, msg("loading"));
    return plugin.enumerateCertificates(device, plugin.CERT_CATEGORY_USER).then(function (handles) {
      if (mine !== generation) {
        return;
      }
      if (!handles || !handles.length) {
        placeholder(certSelect, msg("no-certificate"));
        showError(msg("no-certificate"));
        return;
      }
      return Promise.all(
        handles.map(function (handle) {
          return plugin.parseCertificate(device, handle).then(
            function (info) {
              return { handle: handle, text: describe(info) };
            },
            function () {
              return { handle: handle, text: handle };
            }
          );
        })
      ).then(function (items) {
        if (mine !== generation) {
          return;
        }
        certSelect.textContent = "";
        items.forEach(function (item) {
          addOption(certSelect, item.handle, item.text);
        });
        certSelect.disabled = false;
        setReady(true);
      });
    });
  }

  // login; a session this page left open (a failed attempt, a second tab) is closed first.
  function login(device, pin) {
    return plugin.login(device, pin).catch(function (error) {
      if (codeIs(errorCode(error), ["ALREADY_LOGGED_IN"])) {
        return plugin.logout(device).then(function () {
          return plugin.login(device, pin);
        });
      }
      throw error;
    });
  }

  function logoutQuietly(device) {
    return plugin.logout(device).then(
      function () {},
      function () {}
    );
  }

  // A POST to our JSON API; a refusal becomes {server: true, message} with its text.
  function api(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrf
      },
      body: JSON.stringify(body)
    }).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (!response.ok || !data) {
              throw { server: true, message: (data && data.message) || msg("network") };
            }
            return data;
          });
      },
      function () {
        throw { server: true, message: msg("network") };
      }
    );
  }

  function retriesLeft(device) {
    return plugin
      .getDeviceInfo(device, plugin.TOKEN_INFO_PINS_INFO)
      .then(function (info) {
        return info && !isNaN(parseInt(info.retriesLeft, 10)) ? parseInt(info.retriesLeft, 10) : null;
      })
      .catch(function () {
        if (plugin.TOKEN_INFO_PIN_RETRIES_LEFT === undefined) {
          return null;
        }
        return plugin.getDeviceInfo(device, plugin.TOKEN_INFO_PIN_RETRIES_LEFT).then(
          function (n) {
            return isNaN(parseInt(n, 10)) ? null : parseInt(n, 10);
          },
          function () {
            return null;
          }
        );
      });
  }

  // The catalogue text for a failure (a Promise: a wrong PIN asks the token how many
  // attempts are left).
  function explain(error, device) {
    if (error && error.server) {
      return Promise.resolve(error.message);
    }
    var code = errorCode(error);
    if (codeIs(code, ["PIN_INCORRECT"])) {
      pinInput.value = "";
      return retriesLeft(device).then(function (n) {
        if (n === 0) {
          return msg("pin-locked");
        }
        return n === null ? msg("pin-incorrect-plain") : msg("pin-incorrect").replace("{n}", n);
      });
    }
    if (codeIs(code, ["PIN_LOCKED"])) {
      pinInput.value = "";
      return Promise.resolve(msg("pin-locked"));
    }
    if (codeIs(code, ["PIN_LENGTH_INVALID", "PIN_INVALID"])) {
      return Promise.resolve(msg("pin-incorrect-plain"));
    }
    if (codeIs(code, ["DEVICE_NOT_FOUND", "TOKEN_INVALID", "DEVICE_ERROR", "SESSION_INVALID"])) {
      return Promise.resolve(msg("no-device"));
    }
    if (codeIs(code, ["CERTIFICATE_NOT_FOUND", "KEY_NOT_FOUND"])) {
      return Promise.resolve(msg("no-certificate"));
    }
    return Promise.resolve(msg("plugin-error").replace("{code}", code === null ? "?" : code));
  }

  function registrationFields() {
    if (!branchBox || !branchBox.checked) {
      return { branch: false };
    }
    var inn = headInput.value.replace(/[\s-]/g, "");
    if (!/^\d{14}$/.test(inn)) {
      return null;
    }
    return { branch: true, head_inn: inn };
  }

  function submit(event) {
    event.preventDefault();
    if (busy || !plugin) {
      return;
    }
    var device = selectedDevice();
    var certificate = certSelect.value;
    var pin = pinInput.value;
    if (device === null) {
      showError(msg("no-device"));
      return;
    }
    if (!certificate) {
      showError(msg("no-certificate"));
      return;
    }
    if (!pin) {
      showError(msg("pin-empty"));
      pinInput.focus();
      return;
    }
    var extra = purpose === "register" ? registrationFields() : {};
    if (extra === null) {
      showError(msg("head-inn"));
      headInput.setAttribute("aria-invalid", "true");
      headInput.focus();
      return;
    }
    if (headInput) {
      headInput.removeAttribute("aria-invalid");
    }
    showError("");
    setBusy(true);
    var loggedIn = false;
    var challenge = "";
    login(device, pin)
      .then(function () {
        loggedIn = true;
        return api(
          "/api/esig/challenge",
          purpose === "register" ? { purpose: "register" } : { purpose: "signin", req: req }
        );
      })
      .then(function (issued) {
        challenge = issued.challenge;
        var plain = plugin.DATA_FORMAT_PLAIN !== undefined ? plugin.DATA_FORMAT_PLAIN : false;
        return plugin.sign(device, certificate, challenge, plain, {
          detached: false,
          addUserCertificate: true,
          addSignTime: true,
          useHardwareHash: false
        });
      })
      .then(function (cms) {
        var body = { challenge: challenge, cms: cms };
        if (purpose === "register") {
          body.branch = extra.branch;
          if (extra.branch) {
            body.head_inn = extra.head_inn;
          }
          return api("/api/esig/register", body);
        }
        body.req = req;
        return api("/api/esig/signin", body);
      })
      .then(function (answer) {
        loggedIn = false;
        return logoutQuietly(device).then(function () {
          window.location.assign(answer.redirect);
        });
      })
      .catch(function (error) {
        var closed = loggedIn ? logoutQuietly(device) : Promise.resolve();
        return closed
          .then(function () {
            return explain(error, device);
          })
          .then(function (text) {
            setBusy(false);
            deviceSelect.disabled = false;
            certSelect.disabled = !certSelect.value;
            setReady(!!certSelect.value);
            showError(text);
          });
      });
  }

  form.addEventListener("submit", submit);
  deviceSelect.addEventListener("change", function () {
    refreshCertificates().catch(function (error) {
      explain(error, selectedDevice()).then(showError);
    });
  });
  refreshButton.addEventListener("click", function () {
    refreshDevices().catch(function (error) {
      explain(error, null).then(showError);
    });
  });
  if (branchBox && headRow) {
    branchBox.addEventListener("change", function () {
      headRow.hidden = !branchBox.checked;
      if (branchBox.checked) {
        headInput.focus();
      }
    });
    headRow.hidden = !branchBox.checked;
  }

  loadPlugin()
    .then(function (loaded) {
      plugin = loaded;
      refreshButton.disabled = false;
      return refreshDevices();
    })
    .catch(function (error) {
      if (error === NO_PLUGIN) {
        noPluginBox.hidden = false;
        placeholder(deviceSelect, "—");
        placeholder(certSelect, "");
        refreshButton.disabled = true;
        setReady(false);
        return;
      }
      refreshButton.disabled = !plugin;
      explain(error, null).then(showError);
    });
})();
