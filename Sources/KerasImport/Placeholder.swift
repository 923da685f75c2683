// KerasImport
