package salon

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// Secrets in salon_settings are encrypted at rest with the key PocketBase
// uses for its own settings (serve --encryptionEnv NAME). A stored value that
// starts with encryptedPrefix is ciphertext; anything else is plain text,
// from before a key was set, and is still read as is.
const encryptedPrefix = "enc:v1:"

// EncryptionKey returns the key named by --encryptionEnv, or "" when the app
// runs without one.
func EncryptionKey(app core.App) string {
	if name := app.EncryptionEnv(); name != "" {
		return os.Getenv(name)
	}
	return ""
}

// IsEncrypted reports whether a stored setting value is ciphertext.
func IsEncrypted(stored string) bool { return strings.HasPrefix(stored, encryptedPrefix) }

// EncryptSecret returns plain as it is to be stored: encrypted when the app
// has a key, unchanged without one (and for values already encrypted).
func EncryptSecret(app core.App, plain string) (string, error) {
	key := EncryptionKey(app)
	if key == "" || plain == "" || IsEncrypted(plain) {
		return plain, nil
	}
	sealed, err := security.Encrypt([]byte(plain), key)
	if err != nil {
		return "", fmt.Errorf("encrypt setting: %w", err)
	}
	return encryptedPrefix + sealed, nil
}

// DecryptSecret returns the plain text of a stored setting value.
func DecryptSecret(app core.App, stored string) (string, error) {
	if !IsEncrypted(stored) {
		return stored, nil
	}
	key := EncryptionKey(app)
	if key == "" {
		return "", errors.New("the setting is encrypted but the server runs without its key (--encryptionEnv)")
	}
	plain, err := security.Decrypt(strings.TrimPrefix(stored, encryptedPrefix), key)
	if err != nil {
		return "", fmt.Errorf("decrypt setting (wrong --encryptionEnv key?): %w", err)
	}
	return string(plain), nil
}
