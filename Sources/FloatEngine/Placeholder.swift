// FloatEngine
