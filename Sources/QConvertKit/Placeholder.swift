// QConvertKit
