// Salyk ID registration page: «Поиск» in place (POST /register/lookup, JSON) instead of
// re-rendering the form, the organization fields shown only for «юридическое лицо», and
// «Пароли не совпадают» while typing. Without this script the page works the same way
// through form posts.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form || !window.fetch) {
    return;
  }
  var csrf = form.querySelector('input[name="csrf"]').value;

  function field(id) {
    return document.getElementById(id);
  }

  // The message element under a field (created on demand), as the server renders it.
  function setError(id, message, link) {
    var input = field(id);
    if (!input) {
      return;
    }
    var row = input.closest(".row");
    var error = document.getElementById(id + "-error");
    if (!message) {
      if (error) {
        error.remove();
      }
      input.removeAttribute("aria-invalid");
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.className = "field-error";
      error.id = id + "-error";
      row.appendChild(error);
    }
    error.textContent = message;
    if (link) {
      error.appendChild(document.createTextNode(" — "));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      error.appendChild(a);
    }
    error.setAttribute("role", "alert");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", error.id);
  }

  function setValue(id, value) {
    var input = field(id);
    if (input) {
      input.value = value || "";
    }
  }

  function isLegal() {
    var legal = field("person_type_legal");
    return !!(legal && legal.checked);
  }

  function syncType() {
    form.classList.toggle("is-legal", isLegal());
  }

  function lookup(button) {
    var kind = button.getAttribute("data-lookup");
    var inputId = kind === "organization" ? "org_inn" : "inn";
    var targets = kind === "organization" ? ["org_name"] : ["full_name"];
    if (kind === "organization" || !isLegal()) {
      targets.push("address");
    }
    button.disabled = true;
    fetch("/register/lookup", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ csrf: csrf, inn: field(inputId).value, kind: kind })
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (data.error) {
          targets.forEach(function (id) {
            setValue(id, "");
          });
          var link = null;
          if (data.error === "not_found" && kind === "person") {
            link = {
              href: "/register?tab=add-inn&inn=" + encodeURIComponent(field(inputId).value),
              text: form.getAttribute("data-msg-add-inn")
            };
          }
          setError(inputId, data.message, link);
          return;
        }
        setError(inputId, "");
        setValue(targets[0], data.name);
        targets.forEach(function (id) {
          setError(id, "");
        });
        if (targets.indexOf("address") >= 0) {
          setValue("address", data.address);
        }
        var ugns = field("ugns_code");
        if (ugns && data.ugns_code && (kind === "organization" || !ugns.value)) {
          ugns.value = data.ugns_code;
          setError("ugns_code", "");
        }
      })
      .catch(function () {
        setError(inputId, form.getAttribute("data-msg-network"));
      })
      .then(function () {
        button.disabled = false;
      });
  }

  function checkPasswords() {
    var password = field("password");
    var confirm = field("password_confirm");
    if (confirm.value && password.value !== confirm.value) {
      setError("password_confirm", form.getAttribute("data-msg-mismatch"));
    } else {
      setError("password_confirm", "");
    }
  }

  form.querySelectorAll("button[data-lookup]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      lookup(button);
    });
  });
  form.querySelectorAll('input[name="person_type"]').forEach(function (radio) {
    radio.addEventListener("change", syncType);
  });
  field("password_confirm").addEventListener("input", checkPasswords);
  field("password").addEventListener("input", function () {
    if (field("password_confirm").value) {
      checkPasswords();
    }
  });
  form.classList.add("js");
  syncType();
})();
