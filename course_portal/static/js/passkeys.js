// Passkeys (WebAuthn): the forms marked data-passkey="create" (adding one) and "get" (signing
// in) ask the browser for a credential with the options the server put in data-options, put the
// answer, as JSON with base64url fields, into the form's hidden "credential" field, and send it.
// The server checks everything; this only carries bytes. Without this script the form is sent
// without a credential, and the page says why (and that the authenticator app still works).
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var descriptor = { type: item.type, id: toBytes(item.id) };
      if (item.transports) {
        descriptor.transports = item.transports;
      }
      return descriptor;
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function common(credential) {
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults() : {}
    };
  }

  function registrationJSON(credential) {
    var answer = common(credential);
    var response = credential.response;
    answer.response = {
      clientDataJSON: toText(response.clientDataJSON),
      attestationObject: toText(response.attestationObject),
      transports: response.getTransports ? response.getTransports() : []
    };
    return answer;
  }

  function authenticationJSON(credential) {
    var answer = common(credential);
    var response = credential.response;
    answer.response = {
      clientDataJSON: toText(response.clientDataJSON),
      authenticatorData: toText(response.authenticatorData),
      signature: toText(response.signature),
      userHandle: toText(response.userHandle)
    };
    return answer;
  }

  function message(form, error) {
    var names = {
      NotAllowedError: "data-msg-cancelled",
      AbortError: "data-msg-cancelled",
      InvalidStateError: "data-msg-known",
      SecurityError: "data-msg-insecure"
    };
    var attribute = (error && names[error.name]) || "data-msg-failed";
    return form.getAttribute(attribute) || form.getAttribute("data-msg-failed") || "";
  }

  function init(form) {
    var mode = form.getAttribute("data-passkey");
    var field = form.querySelector("input[name='credential']");
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector("[type='submit']");
    var options;
    try {
      options = JSON.parse(form.getAttribute("data-options"));
    } catch (error) {
      options = null;
    }
    if (!field || !options) {
      return;
    }
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form.getAttribute("data-msg-unsupported") || "");
      if (button) {
        button.disabled = true;
      }
      return;
    }
    var busy = false;
    form.addEventListener("submit", function (event) {
      if (field.value) {
        return; // the answer is in: let the form go
      }
      event.preventDefault();
      if (busy || (form.reportValidity && !form.reportValidity())) {
        return;
      }
      busy = true;
      if (button) {
        button.disabled = true;
      }
      say(form.getAttribute("data-msg-waiting") || "");
      var asked = mode === "create"
        ? navigator.credentials.create({ publicKey: creationOptions(options) })
        : navigator.credentials.get({ publicKey: requestOptions(options) });
      asked.then(function (credential) {
        var answer = mode === "create" ? registrationJSON(credential) : authenticationJSON(credential);
        field.value = JSON.stringify(answer);
        // not form.submit(): the form's button is named "submit" and hides that method
        HTMLFormElement.prototype.submit.call(form);
      }).catch(function (error) {
        busy = false;
        if (button) {
          button.disabled = false;
        }
        say(message(form, error));
      });
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(init);
})();
