package tlsflow

import (
	"reflect"
	"testing"
)

// TestCloneCopiesEveryExportedField sets every exported field of Config to
// a value that is not its zero value and checks Clone keeps it, so a field
// added later cannot be forgotten by Clone (HandshakeTimeout once was: a
// Dial without ServerName clones the Config and lost its timeout).
func TestCloneCopiesEveryExportedField(t *testing.T) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		setNonZero(t, v.Field(i), f.Name)
	}
	clone := reflect.ValueOf(c.Clone()).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if clone.Field(i).IsZero() {
			t.Errorf("Clone dropped Config.%s", f.Name)
		}
	}
}

// setNonZero gives a field a value that is not its zero value.
func setNonZero(t *testing.T, f reflect.Value, name string) {
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(true)
	case reflect.Int, reflect.Int64:
		f.SetInt(1)
	case reflect.Uint16:
		f.SetUint(1)
	case reflect.String:
		f.SetString("x")
	case reflect.Slice:
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
	case reflect.Func:
		f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value { return nil }))
	case reflect.Interface:
		// An interface field needs a value of a type that implements it.
		impl := map[string]any{"Rand": zeroReader{}, "KeyLogWriter": discard{}, "ClientSessionCache": NewLRUClientSessionCache(1)}[name]
		if impl == nil {
			t.Fatalf("Config.%s: no test value for interface %s", name, f.Type())
		}
		f.Set(reflect.ValueOf(impl))
	default:
		t.Fatalf("Config.%s: no test value for kind %s", name, f.Kind())
	}
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
