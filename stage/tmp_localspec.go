package stage

type tmpSpec struct{ Field, Name, Spec string }

func (tmpSpec) Error() error { return nil }

func localSpecsTODO([]byte) ([]tmpSpec, []tmpSpec, error) { return nil, nil, nil }
